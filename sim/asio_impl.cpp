// The one translation unit that compiles Boost.Asio (BOOST_ASIO_SEPARATE_COMPILATION is set on
// the sim target), so that the other files only include declarations: quicker 2-core builds.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
