# SPDX-License-Identifier: MIT
# cmake --install (GNUInstallDirs): patd and patctl, libpat static and
# shared, its headers and libpat.pc, man pages, shell completions,
# patd.service, the docs and the example configuration (DESIGN.md
# section 14). Included at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)

# libpat, shared: the objects of the static libpat (built PIC), with a
# soname and only the public pat_ names exported (packaging/libpat.map;
# tests/check_symbols.sh checks the .so as well as the .a).
set(PAT_SOVERSION 0)
set_target_properties(pat PROPERTIES POSITION_INDEPENDENT_CODE ON)
add_library(pat_shared SHARED $<TARGET_OBJECTS:pat>)
set_target_properties(pat_shared PROPERTIES
  OUTPUT_NAME pat VERSION ${PROJECT_VERSION} SOVERSION ${PAT_SOVERSION}
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/packaging/libpat.map)
target_link_options(pat_shared PRIVATE
  -Wl,--version-script=${CMAKE_SOURCE_DIR}/packaging/libpat.map)
if(NOT PAT_SANITIZE) # the sanitizer runtimes come with the program
  target_link_options(pat_shared PRIVATE -Wl,--no-undefined)
endif()
target_link_libraries(pat_shared PRIVATE PkgConfig::SQLITE3 PkgConfig::PQ
                      PkgConfig::JANSSON PkgConfig::CRYPTO PkgConfig::ZLIB
                      PkgConfig::SODIUM Threads::Threads)
target_include_directories(pat_shared PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>)

configure_file(${CMAKE_SOURCE_DIR}/packaging/libpat.pc.in
               ${CMAKE_BINARY_DIR}/libpat.pc @ONLY)

install(TARGETS patd patctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS pat ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS pat_shared
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_SKIP)
install(TARGETS pat_shared
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_ONLY)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/pat
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/libpat.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The configuration: the example, documented, with the docs; and the
# packaged /etc/patd/patd.conf (the example with the store in
# /var/lib/patd, where patd.service keeps its state).
file(READ ${CMAKE_SOURCE_DIR}/patd.conf.example PATD_CONF)
string(REGEX REPLACE "\nurl = sqlite:[^\n]*" "\nurl = sqlite:/var/lib/patd/patd.db"
       PATD_CONF "${PATD_CONF}")
file(WRITE ${CMAKE_BINARY_DIR}/patd.conf "${PATD_CONF}")
install(FILES ${CMAKE_BINARY_DIR}/patd.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/patd)
install(FILES README.md patd.conf.example docs/operations.md docs/security.md
              docs/scaling.md docs/patctl.md docs/openapi.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/examples docs/deploy
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages (scdoc sources in man/), when scdoc is there.
find_program(SCDOC scdoc)
set(PAT_MAN_PAGES patd.8 patctl.1 patd.conf.5)
if(SCDOC)
  set(pat_man_outputs)
  foreach(page ${PAT_MAN_PAGES})
    string(REGEX MATCH "[0-9]$" section ${page})
    add_custom_command(
      OUTPUT ${CMAKE_BINARY_DIR}/man/${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh -c "${SCDOC} < '${CMAKE_SOURCE_DIR}/man/${page}.scd' > '${CMAKE_BINARY_DIR}/man/${page}'"
      DEPENDS ${CMAKE_SOURCE_DIR}/man/${page}.scd
      COMMENT "scdoc ${page}" VERBATIM)
    list(APPEND pat_man_outputs ${CMAKE_BINARY_DIR}/man/${page})
    install(FILES ${CMAKE_BINARY_DIR}/man/${page}
            DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${pat_man_outputs})
endif()

# Shell completions.
# Shell completions: one script for both programs, under each name.
foreach(prog patd patctl)
  install(FILES packaging/completions/pat.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ${prog})
  install(FILES packaging/completions/pat.zsh
          DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
          RENAME _${prog})
endforeach()

# systemd unit (Debian 12 keeps units in /lib/systemd/system; debian/rules
# says so; a /usr/local install puts it under its prefix).
set(PATD_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
    CACHE PATH "Where patd.service is installed")
configure_file(${CMAKE_SOURCE_DIR}/packaging/patd.service.in
               ${CMAKE_BINARY_DIR}/patd.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/patd.service
        DESTINATION ${PATD_SYSTEMD_UNITDIR})
