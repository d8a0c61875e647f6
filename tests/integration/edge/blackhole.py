# SPDX-License-Identifier: MIT
# A TCP server that accepts connections and never answers: a database that hangs. Prints its
# port, then writes the number of connections accepted so far to the file named by argv[1].
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(len(held)))
    import os
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
