#pragma once
/// A free TCP port on 127.0.0.1 for a test server, asked of the kernel (bind port 0). The
/// server binds it right after: a tiny race, which the harnesses cover by retrying start-up.

namespace factorysim::test {

/// Throws std::runtime_error if no socket can be bound.
int pick_free_port();

}  // namespace factorysim::test
