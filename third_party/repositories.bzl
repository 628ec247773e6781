"""Repositories aio needs, all local: nothing here downloads anything.

Call `aio_dependencies()` from the WORKSPACE of aio itself or of any workspace that
depends on aio through `local_repository(name = "aio", ...)`:

    load("@aio//third_party:repositories.bzl", "aio_dependencies")
    aio_dependencies()

It declares
  * the three offline stubs Bazel 4.2.3 would otherwise fetch from the internet
    (@rules_cc, @rules_java, @remote_coverage_tools), only on Bazel 4.x, where the
    real ones cannot be used offline (Debian's bazel-rules-cc needs a newer Bazel);
  * @com_google_googletest, built from Debian's sources in /usr/src/googletest so
    that sanitizer builds instrument GoogleTest too.
Every other system library is a plain cc_library in //third_party (headers in
/usr/include, shared objects in the default library path): see third_party/BUILD.
"""

def _copy_of_folder_impl(repository_ctx):
    # Resolving a label to a path works the same whether aio is the main workspace or
    # an external repository, so a consumer needs no path to aio's stub folders.
    folder = repository_ctx.path(repository_ctx.attr.marker).dirname
    for child in folder.readdir():
        repository_ctx.symlink(child, child.basename)

_copy_of_folder = repository_rule(
    implementation = _copy_of_folder_impl,
    attrs = {"marker": attr.label(mandatory = True, allow_single_file = True)},
    local = True,
)

def _is_bazel_4_or_debian_build():
    # Debian's bazel-bootstrap reports no version at all ("" or "no_version").
    version = native.bazel_version
    return version in ("", "no_version") or version.startswith("4.")

def aio_dependencies():
    existing = native.existing_rules()
    if _is_bazel_4_or_debian_build():
        for name in ("rules_cc", "rules_java", "remote_coverage_tools"):
            if name not in existing:
                _copy_of_folder(
                    name = name,
                    marker = "@aio//third_party/offline/%s:WORKSPACE" % name,
                )
    if "com_google_googletest" not in existing:
        native.new_local_repository(
            name = "com_google_googletest",
            path = "/usr/src/googletest",  # Debian package: googletest
            build_file = "@aio//third_party:googletest.BUILD",
        )
