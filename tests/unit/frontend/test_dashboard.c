/* test_dashboard.c - the dashboard's CSP hashes and its rendering for a config. */
#include "dashboard.h"
#include "rill_test.h"

#include <stdlib.h>

static long csp_of(const char *page, char *out, size_t size)
{
    return rill_dashboard_csp(page, strlen(page), out, size);
}

int main(void)
{
    char csp[512];
    const char page[] = "<html><head><style>b{c:d}</style></head>"
                        "<body><script>x=1</script></body></html>";
    long length = csp_of(page, csp, sizeof(csp));
    CHECK(length > 0 && (size_t)length == strlen(csp));
    CHECK(strstr(csp, "script-src 'sha256-HyBrEcI+KMwlDe1/wAmNOCOoRnpUNA8axOU1y4VEST8='") != NULL);
    CHECK(strstr(csp, "style-src 'sha256-VWCtcqomXclmaq7LQ0DoJrdMZBu+xEuM64Ao+VyP0tg='") != NULL);
    CHECK(strstr(csp, "default-src 'none'") == csp);
    CHECK(strstr(csp, "connect-src 'self'") != NULL);
    CHECK(strstr(csp, "unsafe") == NULL);

    /* Not exactly one of each: refused. */
    CHECK(csp_of("<style>a</style>", csp, sizeof(csp)) == -1);
    CHECK(csp_of("<script>a</script>", csp, sizeof(csp)) == -1);
    CHECK(csp_of("<style>a</style><script>1</script><script>2</script>", csp, sizeof(csp)) == -1);
    CHECK(csp_of("<style>a</style><script>1</script><script src=x></script>", csp, sizeof(csp)) == -1);
    CHECK(csp_of("<style>a</style><script>1", csp, sizeof(csp)) == -1);
    CHECK(csp_of(page, csp, 40) == -1);

    /* The embedded page qualifies, and renders. */
    CHECK(rill_dashboard_html_size > 1000 && rill_dashboard_html[rill_dashboard_html_size] == '\0');
    CHECK(rill_dashboard_csp(rill_dashboard_html, rill_dashboard_html_size, csp, sizeof(csp)) > 0);

    rill_config_t config;
    rill_config_defaults(&config);
    size_t size = 0;
    char *out = rill_dashboard_render(rill_dashboard_html, rill_dashboard_html_size, &config, &size);
    CHECK(out != NULL && strlen(out) == size);
    CHECK(out != NULL && strstr(out, "content=\"{&quot;kinds&quot;:[&quot;demo&quot;,&quot;tail&quot;,"
                                     "&quot;http&quot;,&quot;exec&quot;,&quot;subscribe&quot;],"
                                     "&quot;auth&quot;:false,&quot;max_jobs&quot;:1000}\">") != NULL);
    free(out);

    /* One declared kind from here on, so the expected bytes stay short. */
    config.kind_count = 1;

    /* Kinds are escaped for the attribute; the token itself never appears. */
    const char small[] = "<head><meta name=\"rill-config\" content=\"old\"></head>";
    snprintf(config.kinds[0], sizeof(config.kinds[0]), "%s", "a\"<b>&'");
    snprintf(config.auth_token, sizeof(config.auth_token), "%s", "secret-token");
    out = rill_dashboard_render(small, strlen(small), &config, &size);
    CHECK(out != NULL);
    if (out != NULL) {
        CHECK_BYTES(out, size,
                    "<head><meta name=\"rill-config\" content=\"{&quot;kinds&quot;:[&quot;a"
                    "\\&quot;&lt;b&gt;&amp;&#39;&quot;],&quot;auth&quot;:true,"
                    "&quot;max_jobs&quot;:1000}\"></head>");
        CHECK(strstr(out, "secret") == NULL);
    }
    free(out);
    CHECK(rill_dashboard_render("<p>no meta</p>", 14, &config, &size) == NULL);
    CHECK(rill_dashboard_render(small, 40, &config, &size) == NULL); /* unterminated value */

    RILL_TEST_END();
}
