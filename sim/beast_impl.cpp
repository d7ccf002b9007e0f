// The one translation unit that compiles Boost.Beast (BOOST_BEAST_SEPARATE_COMPILATION is set
// on the sim target), as asio_impl.cpp does for Asio: the control_* files only see declarations.
#include <boost/beast/src.hpp>
