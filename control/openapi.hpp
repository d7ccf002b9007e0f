#pragma once
/// GET /openapi.json: the control API as an OpenAPI 3.0 document, written by hand (not
/// generated from the route table) so that tests/control/openapi_test.cpp can check the two
/// against each other in both directions.

#include <string>

namespace factorysim::control {

/// The OpenAPI 3.0.3 document (JSON text) describing every route of control_router.
const std::string& openapi_document();

}  // namespace factorysim::control
