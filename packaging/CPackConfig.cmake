# Install layout and CPack packages (DEB, RPM, TGZ) for kproxy. Included from the top-level
# CMakeLists.txt. The completion scripts and the man page are generated at build time by
# running the kproxy just built, so what ships always matches the binary's command table.

include(GNUInstallDirs)

set(KPROXY_GEN_DIR ${PROJECT_BINARY_DIR}/generated)
set(KPROXY_GEN_FILES
  ${KPROXY_GEN_DIR}/completions/kproxy
  ${KPROXY_GEN_DIR}/completions/_kproxy
  ${KPROXY_GEN_DIR}/completions/kproxy.fish
  ${KPROXY_GEN_DIR}/man/kproxy.1
  ${KPROXY_GEN_DIR}/man/kproxy.1.gz)

add_custom_command(
  OUTPUT ${KPROXY_GEN_FILES}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${KPROXY_GEN_DIR}/completions ${KPROXY_GEN_DIR}/man
  COMMAND $<TARGET_FILE:kproxy> completion bash > ${KPROXY_GEN_DIR}/completions/kproxy
  COMMAND $<TARGET_FILE:kproxy> completion zsh > ${KPROXY_GEN_DIR}/completions/_kproxy
  COMMAND $<TARGET_FILE:kproxy> completion fish > ${KPROXY_GEN_DIR}/completions/kproxy.fish
  COMMAND $<TARGET_FILE:kproxy> __man > ${KPROXY_GEN_DIR}/man/kproxy.1
  # -n: no name or timestamp in the header, so the package is reproducible (Debian policy).
  COMMAND gzip -9nc ${KPROXY_GEN_DIR}/man/kproxy.1 > ${KPROXY_GEN_DIR}/man/kproxy.1.gz
  DEPENDS kproxy
  COMMENT "Generating completion scripts and kproxy.1 from the command table"
  VERBATIM)

# kubectl finds plugins as kubectl-<name> on PATH; shell completion for each command name
# is looked up by that name, so the plugin name gets links to the same scripts. The links
# point at files that exist in the build tree too (ninja stats through them), and the build
# directory itself works as a plugin directory: PATH=build:$PATH kubectl kproxy version.
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/kubectl-kproxy
         ${KPROXY_GEN_DIR}/completions/kubectl-kproxy
         ${KPROXY_GEN_DIR}/completions/kubectl-kproxy.fish
  COMMAND ${CMAKE_COMMAND} -E make_directory ${KPROXY_GEN_DIR}/completions
  COMMAND ${CMAKE_COMMAND} -E create_symlink kproxy ${PROJECT_BINARY_DIR}/kubectl-kproxy
  COMMAND ${CMAKE_COMMAND} -E create_symlink kproxy
          ${KPROXY_GEN_DIR}/completions/kubectl-kproxy
  COMMAND ${CMAKE_COMMAND} -E create_symlink kproxy.fish
          ${KPROXY_GEN_DIR}/completions/kubectl-kproxy.fish
  VERBATIM)

add_custom_target(kproxy_generated ALL
  DEPENDS ${KPROXY_GEN_FILES} ${PROJECT_BINARY_DIR}/kubectl-kproxy
          ${KPROXY_GEN_DIR}/completions/kubectl-kproxy
          ${KPROXY_GEN_DIR}/completions/kubectl-kproxy.fish)

install(TARGETS kproxy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# file(INSTALL) copies a symlink as a symlink, so these stay relative links to their targets.
install(FILES ${PROJECT_BINARY_DIR}/kubectl-kproxy DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/packaging/kubectl_complete-kproxy
        DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${KPROXY_GEN_DIR}/completions/kproxy
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${KPROXY_GEN_DIR}/completions/kubectl-kproxy
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${KPROXY_GEN_DIR}/completions/_kproxy
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/zsh/vendor-completions)
install(FILES ${KPROXY_GEN_DIR}/completions/kproxy.fish
              ${KPROXY_GEN_DIR}/completions/kubectl-kproxy.fish
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/fish/vendor_completions.d)
install(FILES ${KPROXY_GEN_DIR}/man/kproxy.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME kproxy)
set(CPACK_PACKAGE_VENDOR "kproxy maintainers")
set(CPACK_PACKAGE_CONTACT "kproxy maintainers <kproxy@example.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "kubectl-compatible client for Kubernetes behind a zero-trust access proxy")
set(CPACK_PACKAGE_DESCRIPTION
    "kproxy opens exec, attach and port-forward sessions over WebSocket with fallback to \
SPDY/3.1, logs in through an identity-aware access proxy, works as a kubectl credential plugin \
and as the kubectl plugin `kubectl kproxy`, and explains refused requests.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://kproxy.example.invalid")
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
# DEB and RPM install under /usr (their default); the tarball holds bin/ and share/ at its top.
set(CPACK_STRIP_FILES ON)
if(NOT CPACK_GENERATOR)
  set(CPACK_GENERATOR DEB RPM TGZ)
endif()
# The tarball unpacks into kproxy-<version>-<system>/{bin,share}.
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)

# Debian: dpkg-shlibdeps computes Depends from the ELF's NEEDED libraries (libc6, zlib1g,
# libcap2 on Debian 12; libwebsockets, yaml-cpp, OpenSSL and libstdc++ are linked statically).
# libcurl is loaded with dlopen (core/rest/curl_library.h), which shlibdeps cannot see: it is
# named here and CPack appends the computed list.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "kubectl, zsh, fish, man-db")

# RPM: explicit library package names (Fedora/RHEL spelling); rpmbuild adds the soname
# requirements it reads from the ELF on top. libcurl is dlopen'ed, so only this line names it.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_REQUIRES "libcurl, openssl-libs, libwebsockets, yaml-cpp, zlib, libstdc++")
set(CPACK_RPM_PACKAGE_SUGGESTS "bash-completion")
# These belong to the filesystem / shell packages; the package must not claim them.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /usr/share/bash-completion /usr/share/bash-completion/completions /usr/share/zsh
  /usr/share/zsh/vendor-completions /usr/share/fish /usr/share/fish/vendor_completions.d
  /usr/share/man /usr/share/man/man1 /usr/share/doc)

include(CPack)
