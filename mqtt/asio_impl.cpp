// The one translation unit that compiles Boost.Asio (BOOST_ASIO_SEPARATE_COMPILATION is set on
// the mqtt target and everything above it), so that the other files only include
// declarations: quicker 2-core builds. Asio's SSL part (TLS of the MQTT session) comes with it.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
