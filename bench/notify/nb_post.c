/* SPDX-License-Identifier: MIT
 * nb-post: the notify bench's raw limit. POSTs N bodies of the given size to one URL with
 * libcurl multi, C requests in flight, as fast as it can: what libcurl alone does on this
 * machine against the same receiver. Each request is made as the notify role makes it
 * (workers/notify_http.c): a fresh easy handle on a shared multi (its connection cache
 * keeps the connections alive), the same options (TLS peer and host verified against
 * --ca, timeouts, no Expect) and five headers of the same sizes as the worker's (the
 * signature header is a fixed string here: no HMAC). What it leaves out is the role:
 * Kafka, decoding, the JSON body, signing, the window and offset bookkeeping.
 * It prints its own wall time and its CPU (getrusage: every thread of this process).
 *   nb-post --url U --ca PEM --requests N --concurrency C --body-bytes B
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    fprintf(stderr, "usage: nb-post --url U --ca PEM --requests N --concurrency C --body-bytes B\n");
    exit(2);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

static struct curl_slist *headers;
static const char *url, *ca;
static char *body;
static long body_len;

static void start_one(CURLM *multi)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        abort();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_CAINFO, ca);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "shopstream-notify/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    if (curl_multi_add_handle(multi, e) != CURLM_OK)
        abort();
}

int main(int argc, char **argv)
{
    url = arg(argc, argv, "--url");
    ca = arg(argc, argv, "--ca");
    long total = atol(arg(argc, argv, "--requests")), conc = atol(arg(argc, argv, "--concurrency"));
    body_len = atol(arg(argc, argv, "--body-bytes"));
    if (total < 1 || conc < 1 || body_len < 2) {
        fprintf(stderr, "nb-post: --requests, --concurrency >= 1, --body-bytes >= 2\n");
        return 2;
    }
    /* A JSON object of exactly body_len bytes: {"p":"xxx...x"} or, when shorter, {} padded. */
    body = malloc((size_t)body_len + 1);
    memset(body, 'x', (size_t)body_len);
    if (body_len >= 9)
        memcpy(body, "{\"p\":\"", 6), memcpy(body + body_len - 2, "\"}", 2);
    else
        body[0] = '{', body[body_len - 1] = '}';
    body[body_len] = '\0';
    /* The worker's headers, with values of the same lengths (workers/roles/notify.c). */
    const char *h[] = {
        "Content-Type: application/json",
        "Shopstream-Signature: t=1764000000000,v1=0000000000000000000000000000000000000000000000000000000000000000",
        "Shopstream-Event-Id: 00000000-0000-0000-0000-000000000000",
        "Shopstream-Event-Type: order.confirmed",
        "Shopstream-Delivery-Attempt: 1",
        "Expect:",
    };
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        headers = curl_slist_append(headers, h[i]);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    long started = 0, done = 0, failed = 0;
    double t0 = mono_s(), c0 = cpu_s();
    while (started < total && started < conc) {
        start_one(multi);
        started++;
    }
    while (done < total) {
        int running = 0, left = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            long status = 0;
            CURL *e = msg->easy_handle;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (status < 200 || status > 299) {
                if (failed++ < 5)
                    fprintf(stderr, "nb-post: a request failed: %s, status %ld\n",
                            curl_easy_strerror(msg->data.result), status);
            }
            curl_multi_remove_handle(multi, e);
            curl_easy_cleanup(e);
            done++;
            if (started < total) {
                start_one(multi);
                started++;
            }
        }
        if (done < total)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double secs = mono_s() - t0, cpu = cpu_s() - c0;
    printf("nb-post: %ld requests (%ld failed) at concurrency %ld in %.0f ms: %.0f/s; cpu %.1f us per request\n",
           total, failed, conc, secs * 1000, (double)total / secs, cpu * 1e6 / (double)total);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(body);
    return failed > 0 ? 1 : 0;
}
