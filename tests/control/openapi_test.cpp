// GET /openapi.json stays true (issue 4): every route of the router's table is in the
// document and every operation of the document is a route; parameters, security and
// references are consistent.
#include "control/openapi.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "control/router.hpp"

namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const json& document() {
  static const json doc = json::parse(factorysim::control::openapi_document());
  return doc;
}

/// Follows a local "$ref" ("#/components/...") to what it names; fails when it names nothing.
const json* resolve(const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    return &document().at(json::json_pointer(ref.substr(1)));
  } catch (const json::exception&) {
    return nullptr;
  }
}

void check_refs(const json& node, const std::string& where) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref") {
        ASSERT_TRUE(value.is_string()) << where;
        EXPECT_NE(resolve(value.get<std::string>()), nullptr)
            << where << ": dangling $ref " << value;
      } else {
        check_refs(value, where + "/" + key);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      check_refs(node[i], where + "/" + std::to_string(i));
  }
}

TEST(openapi, is_an_openapi_3_document) {
  const json& d = document();
  EXPECT_EQ(d["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(d["info"].contains("title"));
  EXPECT_TRUE(d["info"].contains("version"));
  EXPECT_TRUE(d["paths"].is_object());
  check_refs(d, "");
}

TEST(openapi, every_route_is_documented) {
  const json& paths = document()["paths"];
  for (const auto& r : factorysim::control::control_router::routes()) {
    const std::string path(r.path);
    ASSERT_TRUE(paths.contains(path))
        << "route " << r.method << ' ' << r.path << " not in the document";
    const std::string method = lower(r.method);
    ASSERT_TRUE(paths[path].contains(method))
        << r.method << ' ' << r.path << " not in the document";
    const json& op = paths[path][method];
    EXPECT_EQ(op.value("summary", ""), r.summary) << r.method << ' ' << r.path;
    ASSERT_TRUE(op.contains("responses")) << r.method << ' ' << r.path;
    bool has_success = false;
    for (const auto& [code, resp] : op["responses"].items())
      if (code.size() == 3 && code[0] == '2') has_success = true;
    EXPECT_TRUE(has_success) << r.method << ' ' << r.path;
    // Mutating operations declare the bearer token and its 401.
    const bool mutating = method != "get";
    EXPECT_EQ(op.contains("security"), mutating) << r.method << ' ' << r.path;
    if (mutating) {
      EXPECT_TRUE(op["responses"].contains("401")) << r.method << ' ' << r.path;
    }
    // Every {parameter} of the template is declared on the path or the operation.
    std::set<std::string> declared;
    for (const json* list : {&paths[path], &op}) {
      if (!list->contains("parameters")) continue;
      for (const auto& p : (*list)["parameters"]) {
        const json& param = p.contains("$ref") ? *resolve(p["$ref"].get<std::string>()) : p;
        if (param["in"] == "path") declared.insert(param["name"].get<std::string>());
      }
    }
    static const std::regex brace("\\{([a-z_]+)\\}");
    std::set<std::string> in_template;
    for (std::sregex_iterator it(path.begin(), path.end(), brace), end; it != end; ++it)
      in_template.insert((*it)[1].str());
    EXPECT_EQ(declared, in_template) << r.method << ' ' << r.path;
  }
}

TEST(openapi, every_documented_operation_is_a_route) {
  static const std::set<std::string> verbs{"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : document()["paths"].items()) {
    for (const auto& [key, op] : item.items()) {
      if (!verbs.count(key)) continue;
      bool found = false;
      for (const auto& r : factorysim::control::control_router::routes())
        if (r.path == path && lower(r.method) == key) found = true;
      EXPECT_TRUE(found) << key << ' ' << path << " is documented but the router has no such route";
      ASSERT_TRUE(op.contains("operationId")) << key << ' ' << path;
      EXPECT_TRUE(operation_ids.insert(op["operationId"].get<std::string>()).second)
          << "duplicate operationId " << op["operationId"];
    }
  }
  EXPECT_EQ(operation_ids.size(), factorysim::control::control_router::routes().size());
}

}  // namespace
