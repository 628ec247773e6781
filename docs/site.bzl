"""sphinx_site: the documentation site as a Bazel tree artifact.

One action runs docs/tools/build_site.py: Doxygen (XML only) over the public
headers, then Sphinx with -W over the pages. Outputs two directories,
<name>_html (the site) and <name>_doxygen_xml (what the API reference was made
from, which the reference coverage test reads). Only Debian's tools at fixed
paths are used (/usr/bin/doxygen, /usr/bin/sphinx-build), so nothing is
downloaded; see docs/design/build.md.
"""

def _sphinx_site_impl(ctx):
    html = ctx.actions.declare_directory(ctx.label.name + "_html")
    xml = ctx.actions.declare_directory(ctx.label.name + "_doxygen_xml")
    headers = [f for f in ctx.files.headers if f.path.endswith(".h")]
    args = ctx.actions.args()
    args.add("--html", html.path)
    args.add("--xml", xml.path)
    args.add("--src", ctx.file.conf.dirname)
    args.add("--umbrella", ctx.file.umbrella.path)
    args.add_all(ctx.attr.also_public, before_each = "--also")
    args.add("--filter", ctx.file._filter.path)
    args.add_all(headers)
    ctx.actions.run(
        executable = ctx.executable._builder,
        arguments = [args],
        inputs = depset(
            [ctx.file.conf, ctx.file.umbrella, ctx.file._filter] + ctx.files.srcs + headers,
        ),
        outputs = [html, xml],
        mnemonic = "SphinxSite",
        progress_message = "Building the documentation site %s" % ctx.label,
    )
    return [
        DefaultInfo(
            files = depset([html]),
            runfiles = ctx.runfiles(files = [html]),
        ),
        OutputGroupInfo(doxygen_xml = depset([xml])),
    ]

sphinx_site = rule(
    implementation = _sphinx_site_impl,
    attrs = {
        "conf": attr.label(allow_single_file = ["conf.py"], mandatory = True),
        "srcs": attr.label_list(allow_files = True, doc = "Pages, examples and extensions, under conf's directory"),
        "umbrella": attr.label(allow_single_file = [".h"], mandatory = True, doc = "The header whose includes are the public API"),
        "also_public": attr.string_list(doc = "Public headers the umbrella does not include"),
        "headers": attr.label_list(allow_files = True, doc = "Files among which the public headers are found"),
        "_builder": attr.label(default = ":tools/build_site.py", executable = True, cfg = "exec", allow_single_file = True),
        "_filter": attr.label(default = ":tools/doxygen_filter.py", allow_single_file = True),
    },
)
