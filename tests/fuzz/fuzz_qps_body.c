/* fuzz_qps_body.c - libFuzzer target for qps_parse_empty_request, the launch body
 * parser, which sees untrusted bytes before authentication is settled.
 *
 * Not part of the default build. With clang, from the source tree:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Isrc/common -Isrc/server $(pkg-config --cflags libxml-2.0 jansson) \
 *     tests/fuzz/fuzz_qps_body.c src/server/qps.c src/server/qps_codes.c \
 *     src/common/util.c src/common/buf.c src/common/scan.c src/common/err.c \
 *     $(pkg-config --libs libxml-2.0 jansson) -o /tmp/fuzz_qps_body
 *   mkdir -p /tmp/qps-corpus && cp tests/data/qps/* /tmp/qps-corpus
 *   /tmp/fuzz_qps_body -max_len=70000 /tmp/qps-corpus
 * (libFuzzer writes new inputs into the corpus directory, hence the copy.)
 * Besides crashes it checks that every refusal comes with a message and a
 * resolution, and that its error renders in both formats. */
#include "buf.h"
#include "err.h"
#include "qps.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    qps_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qps_error err;
    struct buf out;

    int rc = qps_parse_empty_request((const char *)data, size, &err);
    if (rc == ODS_E_OK)
        return 0;
    if (err.message[0] == '\0' || err.resolution[0] == '\0')
        abort();
    buf_init(&out, QPS_RESPONSE_MAX);
    if (qps_render_error(&out, QPS_XML, "https://fuzz", &err) != 0 ||
        qps_render_error(&out, QPS_JSON, "https://fuzz", &err) != 0)
        abort();
    buf_free(&out);
    return 0;
}
