"""Static files as production serves them: every file under a name carrying a hash of its content
(so browsers keep it a year and a deploy never serves a stale one), with gzip and brotli copies
that whitenoise picks by the request's Accept-Encoding."""

from whitenoise.storage import CompressedManifestStaticFilesStorage

# `import {toast} from "./toasts.js";` (and `export … from`): how our ES modules load each other.
# Django's own rule for these (support_js_module_import_aggregation) also takes `import("…")`
# in comments, and django-htmx's extensions have JSDoc types written that way.
_MODULE_IMPORT = (
    r"""(?P<matched>(?P<statement>\b(?:import|export)\b[^"';]*?\bfrom\s*)"""
    r"""(?P<quote>["'])(?P<url>\.{1,2}/[^"']+)(?P=quote))""",
    "%(statement)s%(quote)s%(url)s%(quote)s",
)


class HashedCompressedStorage(CompressedManifestStaticFilesStorage):
    # Imports are rewritten to the hashed names too, so a page's modules all come from one
    # deploy and the browser caches each of them for good.
    patterns = (*CompressedManifestStaticFilesStorage.patterns, ("*.js", (_MODULE_IMPORT,)))
