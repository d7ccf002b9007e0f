# The Debian package (docs/packaging.md): `cpack -G DEB` in the build folder (or
# `cmake --build build --target package`) writes factorysim_<version>_<arch>.deb with the
# executable (stripped) in /usr/bin, sql/ and scenarios/ in /usr/share/factorysim, the docs in
# /usr/share/doc/factorysim. Library dependencies come from dpkg-shlibdeps (dpkg-dev); the rest
# are listed here. Not part of the normal build: the package test (tests/package/) runs cpack.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME factorysim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "factorysim")
set(CPACK_PACKAGE_CONTACT "factorysim maintainers <factorysim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "industrial factory simulator, MQTT load generator and PostgreSQL/TimescaleDB ingestor")
set(CPACK_PACKAGE_DESCRIPTION
    "factorysim simulates compressors, HVAC, conveyors, pumps and injection-molding machines on "
    "shift calendars with seasonal climate and labelled faults, publishes their readings over "
    "MQTT (or into files: TSV, JSON lines, CSV, InfluxDB line protocol), replays captures, and "
    "ingests the stream into PostgreSQL 15 or TimescaleDB.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # factorysim_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)  # quick to build in the test; xz saves ~30 %
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # libyaml-cpp, libpqxx, libpq, libssl, libstdc++ ...
# date-tz reads the system's IANA database at run time; psql for the quickstart's queries.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto, postgresql-15 | postgresql")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients, postgresql-client, influxdb")
include(CPack)
