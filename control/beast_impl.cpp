// The one translation unit that compiles Boost.Beast (BOOST_BEAST_SEPARATE_COMPILATION is set
// on the control target), as mqtt/asio_impl.cpp does for Asio: server.cpp only sees declarations.
#include <boost/beast/src.hpp>
