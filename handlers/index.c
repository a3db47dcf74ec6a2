/*
 * index.c - the index page (dash-protocol.md section 4).
 *
 * The script list and order follow Dash's _generate_scripts_html; debug
 * mode swaps in the development bundles, which alone contain the dev-tools
 * UI and error cards.  Fingerprints carry the file's modification time
 * under FCDASH_STATIC_ROOT, so an upgraded front end gets new URLs and the
 * year-long cache headers nginx sends for them stay correct.  Without a
 * static root the time is 0: still a valid URL, only never changing.
 */
#include "handlers/index.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/json.h"

typedef struct script {
    const char *path;      /* under _dash-component-suites/ */
    unsigned when;         /* PROD, DEBUG or both */
} script_t;

#define PROD 1u
#define DEBUG 2u

static const script_t scripts[] = {
    {"dash/deps/polyfill@7.12.1.min.js", PROD | DEBUG},
    {"dash/deps/react@18.3.1.min.js", PROD},
    {"dash/deps/react@18.3.1.js", DEBUG},
    {"dash/deps/react-dom@18.3.1.min.js", PROD},
    {"dash/deps/react-dom@18.3.1.js", DEBUG},
    {"dash/deps/prop-types@15.8.1.min.js", PROD},
    {"dash/deps/prop-types@15.8.1.js", DEBUG},
    {"dash/dash-renderer/build/dash_renderer.min.js", PROD},
    {"dash/dash-renderer/build/dash_renderer.dev.js", DEBUG},
    {"dash/dcc/dash_core_components.js", PROD | DEBUG},
    {"dash/dcc/dash_core_components-shared.js", PROD | DEBUG},
    {"dash/dcc/proptypes.js", DEBUG},
    {"dash/html/dash_html_components.min.js", PROD | DEBUG},
};

void fcd_index_fingerprint(const char *path, const char *version, long long mtime,
                           fcd_buf_t *out)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    const char *dot = strchr(base, '.');
    if (dot == NULL) {
        fcd_buf_adds(out, path);
        return;
    }
    fcd_buf_add(out, path, (size_t)(dot - path));
    fcd_buf_adds(out, ".v");
    for (const char *v = version; *v; v++) {
        char c = *v;
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
        fcd_buf_addc(out, word ? c : '_');
    }
    fcd_buf_printf(out, "m%lld", mtime);
    fcd_buf_adds(out, dot);
}

static long long file_mtime(const fcd_app_t *app, const char *rel)
{
    if (app->config.static_root[0] == '\0')
        return 0;
    char full[2048];
    snprintf(full, sizeof full, "%s/%s", app->config.static_root, rel);
    struct stat st;
    return stat(full, &st) == 0 ? (long long)st.st_mtime : 0;
}

static void add_html_text(fcd_buf_t *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fcd_buf_adds(out, "&lt;"); break;
        case '>': fcd_buf_adds(out, "&gt;"); break;
        case '&': fcd_buf_adds(out, "&amp;"); break;
        case '"': fcd_buf_adds(out, "&quot;"); break;
        default: fcd_buf_addc(out, *s);
        }
    }
}

static void add_config(const fcd_app_t *app, fcd_buf_t *out)
{
    const fcd_config_t *c = &app->config;
    const char *dbg = c->debug ? "true" : "false";
    fcd_buf_adds(out, "{\"url_base_pathname\": null, \"requests_pathname_prefix\": ");
    fcd_buf_add_json_string(out, c->prefix);
    fcd_buf_printf(out,
                   ", \"ui\": %s, \"props_check\": %s, \"disable_version_check\": true, "
                   "\"show_undo_redo\": false, \"suppress_callback_exceptions\": false, "
                   "\"update_title\": \"Updating...\", \"children_props\": "
                   "{\"dash_core_components\": {\"Clipboard\": [\"copied_children\"], "
                   "\"Loading\": [\"custom_spinner\"], \"Tab\": [\"label\"]}, "
                   "\"dash_html_components\": {}}, \"serve_locally\": true, "
                   "\"dash_version\": \"" FCD_DASH_VERSION "\", \"python_version\": \"none\", "
                   "\"dash_version_url\": \"\", \"ddk_version\": null, \"plotly_version\": null, "
                   "\"validate_callbacks\": %s, \"csrf_token_name\": \"_csrf_token\", "
                   "\"csrf_header_name\": \"X-CSRFToken\", \"plotly_cloud_installed\": true%s}",
                   dbg, dbg, dbg, c->debug ? ", \"dev_tools\": []" : "");
}

int fcd_index_build(const fcd_app_t *app, fcd_buf_t *out)
{
    const fcd_config_t *c = &app->config;
    fcd_buf_reset(out);
    fcd_buf_adds(out,
                 "<!DOCTYPE html>\n<html>\n    <head>\n"
                 "        <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">\n"
                 "        <meta charset=\"UTF-8\">\n"
                 "        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "        <title>");
    add_html_text(out, c->title);
    fcd_buf_adds(out, "</title>\n        <link rel=\"icon\" type=\"image/x-icon\" href=\"");
    add_html_text(out, c->prefix);
    fcd_buf_adds(out, "_favicon.ico?v=" FCD_DASH_VERSION "\">\n");
    fcd_buf_adds(out, "        <link rel=\"stylesheet\" href=\"");
    add_html_text(out, c->prefix);
    fcd_buf_printf(out, "assets/fcdash.css?m=%lld\">\n", file_mtime(app, "assets/fcdash.css"));
    fcd_buf_adds(out,
                 "    </head>\n    <body>\n"
                 "        <div id=\"react-entry-point\">\n"
                 "            <div class=\"_dash-loading\">Loading...</div>\n"
                 "        </div>\n        <footer>\n"
                 "            <script id=\"_dash-config\" type=\"application/json\">");
    /* The config sits inside a <script> element: '<' must not appear raw.
     * add_config writes only JSON string escapes that already avoid it. */
    add_config(app, out);
    fcd_buf_adds(out, "</script>\n");
    unsigned want = c->debug ? DEBUG : PROD;
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        if (!(scripts[i].when & want))
            continue;
        fcd_buf_adds(out, "            <script src=\"");
        add_html_text(out, c->prefix);
        fcd_buf_adds(out, "_dash-component-suites/");
        fcd_index_fingerprint(scripts[i].path, FCD_DASH_VERSION, file_mtime(app, scripts[i].path),
                              out);
        fcd_buf_adds(out, "\"></script>\n");
    }
    fcd_buf_adds(out,
                 "            <script id=\"_dash-renderer\" type=\"application/javascript\">"
                 "var renderer = new DashRenderer();</script>\n"
                 "        </footer>\n    </body>\n</html>\n");
    return out->failed ? -1 : 0;
}
