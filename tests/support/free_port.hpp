#pragma once
/// A free TCP port on 127.0.0.1 for a test server, asked of the kernel (bind port 0). The
/// server binds it right after: a tiny race, which the harnesses cover by retrying start-up.

namespace factorysim::test {

/// Throws std::runtime_error if no socket can be bound.
int pick_free_port();

/// For a test's own in-process server: a listening TCP socket on 127.0.0.1 whose port the
/// kernel picks (no race with other tests), close-on-exec. Sets `port`; throws
/// std::runtime_error on failure.
int listen_on_loopback(int& port, int backlog = 16);

}  // namespace factorysim::test
