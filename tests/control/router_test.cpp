// The control router (issue 4) without sockets: every route and every error status against a
// real engine on a memory sink, stepped by hand.
#include "control/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "sim/payload.hpp"
#include "tests/control/control_fixture.hpp"

namespace {

using namespace factorysim;
using namespace std::chrono_literals;
using nlohmann::json;
using test::compressor_id;
using test::control_t0;
using test::factory_a;
using test::factory_b;
using test::hvac_id;
using test::pump_id;

using router_test = test::control_fixture;

std::string header(const control::control_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

TEST_F(router_test, health_and_status_report_the_engine) {
  make();
  engine->advance_to(control_t0 + 10s);
  auto r = call("GET", "/health");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["status"], "ok");
  EXPECT_EQ(json_of(r)["state"], "running");

  r = call("GET", "/status");
  ASSERT_EQ(r.status, 200u);
  const json s = json_of(r);
  EXPECT_EQ(s["state"], "running");
  EXPECT_EQ(s["mode"], "accelerated");
  EXPECT_EQ(s["scenario"], "control-test");
  std::string now;
  sim::append_time(now, engine->sim_now());
  EXPECT_EQ(s["simulated_time"], now);
  EXPECT_EQ(s["simulated_start"], "2025-03-03T14:00:00.000Z");
  EXPECT_EQ(s["machines"], 3);
  EXPECT_EQ(s["machines_enabled"], 3);
  EXPECT_EQ(s["root_seed"], 3);
  const auto st = engine->status();
  std::size_t energy = 0;
  for (const auto& m : sink.messages()) energy += m.topic.ends_with("/energy") ? 1 : 0;
  EXPECT_EQ(s["counters"]["published"]["energy"].get<std::size_t>(), energy);
  EXPECT_EQ(s["counters"]["published"]["total"].get<std::size_t>(), sink.messages().size());
  EXPECT_EQ(s["counters"]["steps"], st.steps);
  EXPECT_EQ(s["counters"]["overruns"], st.overruns);  // advance_to in one go: late steps
  EXPECT_GT(st.overruns, 0u);
  EXPECT_EQ(s["counters"]["publish_errors"], 0);
  EXPECT_EQ(s["counters"]["reconnects"], 0);
  EXPECT_EQ(s["counters"]["active_faults"], 0);
  EXPECT_TRUE(s["simulated_end"].is_null());
  // The router counts its own answers (the /health one at least).
  EXPECT_GE(s["control"]["requests"].get<int>(), 1);
}

TEST_F(router_test, unknown_paths_are_404_and_wrong_methods_405_with_allow) {
  make();
  for (const char* target : {"/", "/nope", "/machines/x/y", "/machines/x/faults/1/z", "/statusx"}) {
    EXPECT_EQ(call("GET", target).status, 404u) << target;
  }
  EXPECT_EQ(call("GET", "no-slash").status, 400u);
  EXPECT_EQ(call("GET", "//status").status, 404u);

  auto r = call("DELETE", "/status");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "GET");
  r = call("GET", "/stop");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "POST");
  r = call("POST", std::string("/machines/") + compressor_id);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "GET, PATCH");
  r = call("PUT", std::string("/machines/") + compressor_id + "/faults");
  EXPECT_EQ(header(r, "Allow"), "GET, POST, DELETE");
  EXPECT_EQ(call("HEAD", "/health").status, 405u);
  // A trailing slash names the same resource; the query does not change the route.
  EXPECT_EQ(call("GET", "/health/").status, 200u);
  EXPECT_EQ(call("GET", "/health?verbose=1").status, 200u);
}

TEST_F(router_test, the_token_guards_every_mutating_route_and_only_those) {
  control::control_router_options o;
  o.token = "s3cret-token";
  make(scenarios::time_mode::accelerated, o);
  const std::string body = std::string(R"({"machine_ids":[")") + compressor_id + "\"]}";
  auto r = call("POST", "/stop", body);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer realm=\"factorysim\"");
  EXPECT_TRUE(engine->machine(0).enabled);  // refused before any change
  EXPECT_EQ(call("POST", "/stop", body, "Bearer wrong").status, 401u);
  EXPECT_EQ(call("POST", "/stop", body, "Bearer s3cret-token2").status, 401u);
  EXPECT_EQ(call("POST", "/stop", body, "Bearer s3cret-toke").status, 401u);
  EXPECT_EQ(call("POST", "/stop", body, "bearer s3cret-token").status, 401u);
  EXPECT_EQ(call("POST", "/stop", body, "s3cret-token").status, 401u);
  EXPECT_EQ(call("PUT", "/speed", R"({"speed":2})").status, 401u);
  EXPECT_EQ(call("PATCH", std::string("/machines/") + pump_id, R"({"interval_s":2})").status, 401u);
  EXPECT_EQ(call("DELETE", std::string("/machines/") + pump_id + "/faults").status, 401u);
  EXPECT_EQ(call("POST", "/shutdown").status, 401u);
  EXPECT_EQ(engine->status().state, sim::run_state::running);
  // Reading needs no token.
  for (const char* t :
       {"/health", "/status", "/machines", "/metrics", "/openapi.json", "/factories"})
    EXPECT_EQ(call("GET", t).status, 200u) << t;
  r = call("POST", "/stop", body, "Bearer s3cret-token");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_FALSE(engine->machine(0).enabled);
}

TEST(bearer_matches, compares_the_whole_header) {
  EXPECT_TRUE(control::bearer_matches("Bearer abc", "abc"));
  EXPECT_FALSE(control::bearer_matches("Bearer abcd", "abc"));
  EXPECT_FALSE(control::bearer_matches("Bearer ab", "abc"));
  EXPECT_FALSE(control::bearer_matches("Bearer abd", "abc"));
  EXPECT_FALSE(control::bearer_matches("Basic abc", "abc"));
  EXPECT_FALSE(control::bearer_matches("", "abc"));
  EXPECT_FALSE(control::bearer_matches("Bearer ", ""));  // no token configured never matches
  EXPECT_FALSE(control::bearer_matches(std::string("Bearer abc\0", 11), "abc"));
}

TEST_F(router_test, malformed_and_mistyped_bodies_are_400_with_the_reason) {
  make();
  const std::string m = std::string("/machines/") + pump_id;
  struct bad {
    std::string method, target, body, reason;
  };
  const std::vector<bad> cases = {
      {"POST", "/stop", "{", "malformed JSON"},
      {"POST", "/stop", "[1,2]", "must be a JSON object"},
      {"POST", "/stop", "\"x\"", "must be a JSON object"},
      {"POST", "/stop", R"({"machine_id":["x"]})", "unknown key \"machine_id\""},
      {"POST", "/stop", R"({"machine_ids":"x"})", "must be an array"},
      {"POST", "/stop", R"({"machine_ids":[1]})", "must hold strings"},
      {"POST", "/stop", R"({"machine_ids":[]})", "selects nothing"},
      {"POST", "/start", R"({"factory_ids":{}})", "must be an array"},
      {"PUT", "/speed", "", "body is required"},
      {"PUT", "/speed", "{}", "\"speed\" is required"},
      {"PUT", "/speed", R"({"speed":"fast"})", "must be a number, got a string"},
      {"PUT", "/speed", R"({"speed":true})", "must be a number, got a boolean"},
      {"PUT", "/speed", R"({"speed":0})", "must be within (0, 1000000]"},
      {"PUT", "/speed", R"({"speed":-3})", "must be within (0, 1000000]"},
      {"PUT", "/speed", R"({"speed":2,"x":1})", "unknown key"},
      {"PATCH", m, "{}", "nothing to change"},
      {"PATCH", m, R"({"interval_s":"5"})", "must be a number"},
      {"PATCH", m, R"({"interval_s":0})", "must be > 0"},
      {"PATCH", m, R"({"interval_s":-1})", "must be > 0"},
      {"PATCH", m, R"({"interval_s":0.001})", ">= 0.01"},
      {"PATCH", m, R"({"interval_s":1e12})", "at most"},
      {"PATCH", m, R"({"enabled":"yes"})", "must be a boolean"},
      {"PATCH", m, R"({"interval":5})", "unknown key"},
      {"GET", "/machines?type=robot", "", "unknown machine type"},
      {"GET", "/machines?colour=red", "", "unknown query parameter"},
      {"GET", "/machines/%zz", "", "percent-encoding"},
  };
  for (const auto& c : cases) {
    const auto r = call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, 400u) << c.method << ' ' << c.target << ' ' << c.body << " -> " << r.body;
    EXPECT_NE(json_of(r)["detail"].get<std::string>().find(c.reason), std::string::npos)
        << c.body << " -> " << r.body;
    EXPECT_EQ(json_of(r)["error"], "bad_request");
  }
  // None of them changed anything.
  EXPECT_EQ(engine->status().machines_enabled, 3u);
  EXPECT_EQ(engine->machine(1).interval, 10'000ms);
  EXPECT_DOUBLE_EQ(engine->status().speed, 1.0);
}

TEST_F(router_test, bodies_over_the_limit_are_413) {
  control::control_router_options o;
  o.body_limit = 1024;
  make(scenarios::time_mode::accelerated, o);
  std::string big = R"({"machine_ids":[)";
  while (big.size() < 2000) big += "\"x\",";
  big += "\"x\"]}";
  const auto r = call("POST", "/stop", big);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(json_of(r)["error"], "payload_too_large");
  EXPECT_EQ(engine->status().machines_enabled, 3u);
}

TEST_F(router_test, stop_and_start_machines_by_id_and_factory) {
  make();
  engine->advance_to(control_t0 + 5s);
  auto r = call("POST", "/stop", std::string(R"({"machine_ids":[")") + compressor_id + "\"]}");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["machines"], json::array({compressor_id}));
  EXPECT_EQ(json_of(r)["changed"], 1);
  EXPECT_EQ(json_of(r)["machines_enabled"], 2);
  EXPECT_FALSE(engine->machine(0).enabled);
  // Offline status at once, then silence.
  const auto status = on("factory/ctl/compressor-1/status");
  EXPECT_EQ(status.back()["operating_mode"], "offline");
  EXPECT_EQ(status.back()["is_running"], false);
  const std::size_t mark = sink.messages().size();
  engine->advance_to(control_t0 + 9s);
  EXPECT_TRUE(on("factory/ctl/compressor-1/energy", mark).empty());
  EXPECT_EQ(json_of(call("GET", std::string("/machines/") + compressor_id))["state"], "stopped");

  // Again: nothing changes, still 200.
  r = call("POST", "/stop", std::string(R"({"machine_ids":[")") + compressor_id + "\"]}");
  EXPECT_EQ(json_of(r)["changed"], 0);

  // Start again: readings resume, seq continues.
  r = call("POST", "/start", std::string(R"({"machine_ids":[")") + compressor_id + "\"]}");
  ASSERT_EQ(r.status, 200u);
  engine->advance_to(control_t0 + 12s);
  const auto energy = on("factory/ctl/compressor-1/energy");
  ASSERT_EQ(energy.size(), 5u + 3u);
  for (std::size_t k = 0; k < energy.size(); ++k) EXPECT_EQ(energy[k]["seq"], k + 1);

  // By factory: A has the compressor and the pump.
  r = call("POST", "/stop", std::string(R"({"factory_ids":[")") + factory_a + "\"]}");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["machines"], json::array({compressor_id, pump_id}));
  EXPECT_FALSE(engine->machine(0).enabled);
  EXPECT_FALSE(engine->machine(1).enabled);
  EXPECT_TRUE(engine->machine(2).enabled);
  // Factory and machine lists together are a union.
  r = call("POST", "/start",
           std::string(R"({"factory_ids":[")") + factory_b + R"("],"machine_ids":[")" + pump_id +
               "\"]}");
  EXPECT_EQ(json_of(r)["machines"], json::array({pump_id, hvac_id}));
  EXPECT_TRUE(engine->machine(1).enabled);
  EXPECT_FALSE(engine->machine(0).enabled);
}

TEST_F(router_test, unknown_ids_are_404_and_change_nothing) {
  make();
  auto r =
      call("POST", "/stop", std::string(R"({"machine_ids":[")") + compressor_id + R"(","nope"]})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(json_of(r)["detail"].get<std::string>().find("nope"), std::string::npos);
  EXPECT_TRUE(engine->machine(0).enabled);
  r = call("POST", "/stop", R"({"factory_ids":["no-such-factory"]})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(engine->status().machines_enabled, 3u);
  for (const char* t : {"/machines/nope", "/machines/nope/faults", "/machines/nope/faults/1"})
    EXPECT_EQ(call("GET", t).status, 404u) << t;
  EXPECT_EQ(call("PATCH", "/machines/nope", R"({"interval_s":2})").status, 404u);
  EXPECT_EQ(call("POST", "/machines/nope/faults", R"({"type":"spike","severity":0.5})").status,
            404u);
  EXPECT_EQ(call("DELETE", "/machines/nope/faults").status, 404u);
  EXPECT_EQ(call("DELETE", "/machines/nope/faults/1").status, 404u);
}

TEST_F(router_test, stop_and_start_without_ids_act_on_every_machine_not_the_process) {
  make();
  engine->advance_to(control_t0 + 10s);
  auto r = call("POST", "/stop");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["machines"].size(), 3u);
  EXPECT_EQ(json_of(r)["state"], "running");  // the run goes on, silently
  EXPECT_EQ(engine->status().machines_enabled, 0u);
  const std::size_t mark = sink.messages().size();
  engine->advance_to(control_t0 + 30s);
  EXPECT_EQ(sink.messages().size(), mark);
  r = call("POST", "/start", "{}");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(engine->status().machines_enabled, 3u);
  engine->advance_to(control_t0 + 40s);
  EXPECT_FALSE(on("factory/ctl/hvac-b/energy", mark).empty());
  EXPECT_FALSE(on("factory/ctl/compressor-1/energy", mark).empty());
}

TEST_F(router_test, pause_and_resume_the_run_keep_seq_continuous) {
  make();
  engine->advance_to(control_t0 + 5s);
  auto r = call("POST", "/pause");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["state"], "paused");
  EXPECT_EQ(json_of(call("GET", std::string("/machines/") + pump_id))["state"], "paused");
  r = call("POST", "/pause");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(json_of(r)["error"], "conflict");
  EXPECT_EQ(engine->advance_to(control_t0 + 9s), 0u);
  r = call("POST", "/resume", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["state"], "running");
  EXPECT_EQ(call("POST", "/resume").status, 409u);
  engine->advance_to(control_t0 + 12s);
  const auto energy = on("factory/ctl/compressor-1/energy");
  ASSERT_EQ(energy.size(), 12u);
  for (std::size_t k = 0; k < energy.size(); ++k) EXPECT_EQ(energy[k]["seq"], k + 1);
}

TEST_F(router_test, pause_and_resume_with_ids_stop_and_start_those_machines) {
  make();
  engine->advance_to(control_t0 + 2s);
  auto r = call("POST", "/pause", std::string(R"({"machine_ids":[")") + pump_id + "\"]}");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(engine->status().state, sim::run_state::running);
  EXPECT_FALSE(engine->machine(1).enabled);
  r = call("POST", "/resume", std::string(R"({"machine_ids":[")") + pump_id + "\"]}");
  ASSERT_EQ(r.status, 200u);
  EXPECT_TRUE(engine->machine(1).enabled);
}

TEST_F(router_test, speed_changes_in_accelerated_mode_only) {
  make();
  auto r = call("PUT", "/speed", R"({"speed": 60})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["speed"], 60.0);
  EXPECT_DOUBLE_EQ(engine->status().speed, 60.0);
  EXPECT_EQ(json_of(call("GET", "/status"))["speed"], 60.0);

  make(scenarios::time_mode::realtime);
  r = call("PUT", "/speed", R"({"speed": 60})");
  EXPECT_EQ(r.status, 409u);
  EXPECT_NE(json_of(r)["detail"].get<std::string>().find("accelerated"), std::string::npos);
}

TEST_F(router_test, patch_changes_interval_and_enabled) {
  make();
  engine->advance_to(control_t0 + 4s);
  auto r = call("PATCH", std::string("/machines/") + compressor_id, R"({"interval_s": 5})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["interval_s"], 5.0);
  EXPECT_EQ(engine->machine(0).interval, 5000ms);
  engine->advance_to(control_t0 + 20s);
  const auto energy = on("factory/ctl/compressor-1/energy");
  ASSERT_EQ(energy.size(), 4u + 3u);  // 1..4, then 9, 14, 19
  EXPECT_EQ(energy[4]["time"], "2025-03-03T14:00:09.000Z");

  r = call("PATCH", std::string("/machines/") + compressor_id,
           R"({"interval_s": 0.25, "enabled": false})");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(engine->machine(0).interval, 250ms);
  EXPECT_FALSE(engine->machine(0).enabled);
  EXPECT_EQ(json_of(r)["state"], "stopped");
}

TEST_F(router_test, machines_list_and_detail_show_the_engine_state) {
  make();
  engine->advance_to(control_t0 + 20s);
  auto r = call("GET", "/machines");
  ASSERT_EQ(r.status, 200u);
  json list = json_of(r);
  ASSERT_EQ(list.size(), engine->machine_count());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto m = engine->machine(i);
    EXPECT_EQ(list[i]["id"], m.config->id);
    EXPECT_EQ(list[i]["name"], m.config->name);
    EXPECT_EQ(list[i]["topic"], m.config->topic);
    EXPECT_EQ(list[i]["type"], machines::to_string(m.config->type));
    EXPECT_EQ(list[i]["interval_s"], static_cast<double>(m.interval.count()) / 1000.0);
    EXPECT_EQ(list[i]["state"], machines::to_string(m.last->production.mode));
  }
  EXPECT_EQ(json_of(call("GET", std::string("/machines?factory_id=") + factory_b)).size(), 1u);
  EXPECT_EQ(json_of(call("GET", "/machines?type=pump"))[0]["id"], pump_id);
  EXPECT_EQ(json_of(call("GET", "/machines?type=motor")).size(), 0u);

  r = call("GET", std::string("/machines/") + compressor_id);
  ASSERT_EQ(r.status, 200u);
  const json m = json_of(r);
  const auto st = engine->machine(0);
  EXPECT_EQ(m["name"], "Comp \"A\" \\ 1");
  EXPECT_EQ(m["factory_id"], factory_a);
  EXPECT_EQ(m["enabled"], true);
  EXPECT_EQ(m["last_reading"]["time"], "2025-03-03T14:00:20.000Z");
  // Rounded as the wire rounds (3 and 2 decimals; issue 12).
  EXPECT_NEAR(m["last_reading"]["energy"]["power_kw"].get<double>(), st.last->energy.power_kw,
              0.0005);
  EXPECT_NEAR(m["last_reading"]["environmental"]["pressure_bar"].get<double>(),
              st.last->environmental.pressure_bar, 0.005);
  EXPECT_FALSE(m["last_reading"]["environmental"].contains("cop"));  // a compressor has none
  EXPECT_EQ(m["totals"]["published"]["energy"], 20);
  EXPECT_EQ(m["totals"]["published"]["energy"], st.published[0]);
  EXPECT_NEAR(m["totals"]["energy_total_kwh"].get<double>(), st.energy_total_kwh, 0.0005);
  EXPECT_EQ(m["next_deadline"], "2025-03-03T14:00:21.000Z");
  // Percent-encoded ids name the same machine.
  std::string encoded = std::string("/machines/") + compressor_id;
  encoded.replace(encoded.find('-'), 1, "%2D");
  EXPECT_EQ(json_of(call("GET", encoded))["id"], compressor_id);

  r = call("GET", "/factories");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)[0]["machine_ids"], json::array({compressor_id, pump_id}));
  EXPECT_EQ(json_of(r)[1]["timezone"], "Europe/Berlin");
}

TEST_F(router_test, a_fault_injected_over_the_api_starts_and_ends_on_t_events) {
  make();
  engine->advance_to(control_t0 + 10s);
  const std::string faults = std::string("/machines/") + compressor_id + "/faults";
  auto r = call("POST", faults, R"({"type":"air_leak","severity":0.8,"duration_s":30})");
  ASSERT_EQ(r.status, 201u) << r.body;
  const json f = json_of(r);
  const auto id = f["fault_id"].get<std::uint64_t>();
  EXPECT_GT(id, 0u);
  EXPECT_EQ(header(r, "Location"), faults + "/" + std::to_string(id));
  EXPECT_EQ(f["type"], "air_leak");
  EXPECT_EQ(f["level"], "critical");
  EXPECT_EQ(f["source"], "api");
  EXPECT_EQ(f["duration_s"], 30.0);
  EXPECT_EQ(f["machine_id"], compressor_id);

  engine->advance_to(control_t0 + 11s);
  r = call("GET", faults);
  ASSERT_EQ(r.status, 200u);
  ASSERT_EQ(json_of(r).size(), 1u);
  EXPECT_EQ(json_of(r)[0]["state"], "active");
  EXPECT_EQ(json_of(call("GET", faults + "/" + std::to_string(id)))["fault_id"], id);
  EXPECT_EQ(json_of(call("GET", std::string("/machines/") + compressor_id))["active_faults"].size(),
            1u);
  EXPECT_EQ(json_of(call("GET", "/status"))["counters"]["active_faults"], 1);
  auto events = on("factory/ctl/compressor-1/events");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["event"], "start");
  EXPECT_EQ(events[0]["fault_id"], id);
  EXPECT_EQ(events[0]["source"], "api");

  // Cleared by id before its end: the end event follows at the next step.
  r = call("DELETE", faults + "/" + std::to_string(id));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["cleared"], 1);
  engine->advance_to(control_t0 + 12s);
  events = on("factory/ctl/compressor-1/events");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["event"], "end");
  EXPECT_EQ(events[1]["fault_id"], id);
  EXPECT_EQ(call("DELETE", faults + "/" + std::to_string(id)).status, 404u);
  EXPECT_EQ(call("GET", faults + "/" + std::to_string(id)).status, 404u);
  EXPECT_EQ(call("DELETE", faults + "/abc").status, 400u);
  EXPECT_EQ(call("DELETE", faults + "/0").status, 400u);
  EXPECT_EQ(call("GET", faults + "/-1").status, 400u);

  // Until cleared (no duration), a generic one with a signal, then all cleared at once.
  r = call("POST", faults, R"({"type":"bearing_wear","severity":0.4})");
  ASSERT_EQ(r.status, 201u);
  EXPECT_TRUE(json_of(r)["end"].is_null());
  r = call("POST", faults,
           R"({"type":"spike","severity":0.5,"duration_s":null,"signal":"pressure_bar"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(json_of(r)["signals"], json::array({"pressure_bar"}));
  engine->advance_to(control_t0 + 13s);
  r = call("DELETE", faults);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["cleared"], 2);
  engine->advance_to(control_t0 + 14s);
  EXPECT_TRUE(engine->machine(0).active_faults.empty());
  EXPECT_EQ(json_of(call("DELETE", faults))["cleared"], 0);
}

TEST_F(router_test, bad_fault_requests_are_400_with_the_reason) {
  make();
  const std::string faults = std::string("/machines/") + compressor_id + "/faults";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "\"type\" is required"},
      {R"({"type":5,"severity":0.5})", "\"type\" must be a string"},
      {R"({"type":"meltdown","severity":0.5})", "unknown fault type \"meltdown\""},
      {R"({"type":"heater_failure","severity":0.5})", "does not apply to a compressor"},
      {R"({"type":"air_leak"})", "\"severity\" is required"},
      {R"({"type":"air_leak","severity":1.5})", "within 0..1"},
      {R"({"type":"air_leak","severity":-0.1})", "within 0..1"},
      {R"({"type":"air_leak","severity":"high"})", "must be a number"},
      {R"({"type":"air_leak","severity":0.5,"duration_s":0})", "must be > 0"},
      {R"({"type":"air_leak","severity":0.5,"duration_s":-10})", "must be > 0"},
      {R"({"type":"air_leak","severity":0.5,"duration_s":1e10})", "at most"},
      {R"({"type":"air_leak","severity":0.5,"duration_s":"10s"})", "must be a number"},
      {R"({"type":"air_leak","severity":0.5,"signal":"power_kw"})", "only generic faults"},
      {R"({"type":"spike","severity":0.5,"signal":"warp_factor"})", "unknown signal"},
      {R"({"type":"spike","severity":0.5,"signal":3})", "\"signal\" must be a string"},
      {R"({"type":"spike","severity":0.5,"when":"now"})", "unknown key \"when\""},
      {R"(nope)", "malformed JSON"},
  };
  for (const auto& [body, reason] : cases) {
    const auto r = call("POST", faults, body);
    EXPECT_EQ(r.status, 400u) << body << " -> " << r.body;
    EXPECT_NE(json_of(r)["detail"].get<std::string>().find(reason), std::string::npos)
        << body << " -> " << r.body;
  }
  // The unknown-type message lists the valid ones.
  EXPECT_NE(call("POST", faults, R"({"type":"x","severity":0.5})").body.find("refrigerant_leak"),
            std::string::npos);
  EXPECT_TRUE(engine->machine(0).pending_faults.empty());
  EXPECT_TRUE(engine->machine(0).active_faults.empty());
}

TEST_F(router_test, shutdown_ends_the_run_and_later_changes_are_409) {
  make();
  engine->advance_to(control_t0 + 3s);
  bool finished = false;
  engine->on_finished([&](bool ok) { finished = ok; });
  auto r = call("POST", "/shutdown");
  EXPECT_EQ(r.status, 202u);
  io.run();
  EXPECT_TRUE(finished);
  EXPECT_EQ(engine->status().state, sim::run_state::stopped);
  EXPECT_EQ(on("factory/ctl/pump-1/status").back()["operating_mode"], "offline");
  EXPECT_EQ(call("POST", "/shutdown").status, 202u);  // idempotent
  EXPECT_EQ(call("POST", "/stop").status, 409u);
  EXPECT_EQ(call("POST", "/pause").status, 409u);
  EXPECT_EQ(call("PUT", "/speed", R"({"speed":2})").status, 409u);
  EXPECT_EQ(call("POST", std::string("/machines/") + pump_id + "/faults",
                 R"({"type":"cavitation","severity":0.5})")
                .status,
            409u);
  EXPECT_EQ(call("GET", "/status").status, 200u);  // reading still works

  // A custom shutdown action replaces request_stop().
  int calls = 0;
  control::control_router_options o;
  o.shutdown = [&] { ++calls; };
  make(scenarios::time_mode::accelerated, o);
  EXPECT_EQ(call("POST", "/shutdown").status, 202u);
  EXPECT_EQ(calls, 1);
}

TEST_F(router_test, metrics_and_openapi_are_served) {
  make();
  engine->advance_to(control_t0 + 3s);
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("factorysim_messages_published_total{stream=\"energy\"} " +
                        std::to_string(engine->status().published[0]) + "\n"),
            std::string::npos);
  r = call("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["openapi"], "3.0.3");
}

TEST_F(router_test, every_response_is_counted_by_status) {
  make();
  call("GET", "/health");
  call("GET", "/nope");
  call("GET", "/nope");
  const auto s = router->stats();
  EXPECT_EQ(s.responses.at(200), 1u);
  EXPECT_EQ(s.responses.at(404), 2u);
  router->count_response(503);
  EXPECT_EQ(router->stats().responses.at(503), 1u);
}

// Issue 12: `GET /%FF` was a 500 (an id echoed into JSON that cannot hold the byte).
TEST_F(router_test, non_utf8_bytes_in_a_target_are_400_with_a_reason_issue_12) {
  make();
  for (const char* target :
       {"/%FF", "/machines/%FF", "/machines/%FF/faults", "/machines/%C0%80", "/%ED%A0%80",
        "/machines?factory_id=%FF", "/machines?%FE=1", "/health?x=%F4%90%80%80", "/\xff"}) {
    const auto r = call("GET", target);
    EXPECT_EQ(r.status, 400u) << target;
    EXPECT_NE(json_of(r)["detail"].get<std::string>().find("UTF-8"), std::string::npos) << target;
  }
  // Well-formed UTF-8 is an ordinary unknown id.
  EXPECT_EQ(call("GET", "/machines/%E2%82%AC").status, 404u);
  EXPECT_EQ(call("GET", "/machines/%F0%9F%8F%AD/faults").status, 404u);
}

// Issue 12: `PUT /speed` took 1e300 and the simulated clock jumped to year 0.
TEST_F(router_test, speed_is_bounded_to_a_million_issue_12) {
  make();
  engine->advance_to(control_t0 + 2s);
  const double before = engine->status().speed;
  for (const char* body :
       {R"({"speed":1e300})", R"({"speed":1000001})", R"({"speed":1e999})", R"({"speed":-1e300})",
        R"({"speed":0})", R"({"speed":-5})", R"({"speed":"NaN"})", R"({"speed":null})"}) {
    const auto r = call("PUT", "/speed", body);
    EXPECT_EQ(r.status, 400u) << body << ": " << r.body;
    EXPECT_EQ(engine->status().speed, before) << body;
  }
  auto r = call("PUT", "/speed", R"({"speed":1000000})");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r)["speed"], 1e6);
  EXPECT_GE(engine->sim_now(), control_t0);
  EXPECT_THROW(engine->set_speed(1e300), sim::control_error);
  EXPECT_THROW(engine->set_speed(std::numeric_limits<double>::infinity()), sim::control_error);
}

TEST_F(router_test, the_type_filter_accepts_what_the_yaml_accepts_issue_12) {
  make();
  auto r = call("GET", "/machines?type=conveyor");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json_of(r), json_of(call("GET", "/machines?type=motor")));
  r = call("GET", "/machines?type=belt");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(json_of(r)["detail"].get<std::string>().find("conveyor"), std::string::npos);
  EXPECT_EQ(json_of(call("GET", "/machines?type=pump")).size(), 1u);
}

// Issue 12: the machine view showed 41.19999694824219 where the wire said 41.200.
TEST_F(router_test, a_machines_last_reading_has_the_numbers_of_its_payloads_issue_12) {
  make();
  engine->advance_to(control_t0 + 5s);
  const json m = json_of(call("GET", std::string("/machines/") + compressor_id));
  const auto energy = on("factory/ctl/compressor-1/energy");
  const auto production = on("factory/ctl/compressor-1/production");
  const auto environmental = on("factory/ctl/compressor-1/environmental");
  ASSERT_FALSE(energy.empty());
  ASSERT_FALSE(environmental.empty());
  std::size_t compared = 0;
  const auto same = [&](const json& payload, const json& view) {
    for (const auto& [key, value] : view.items()) {
      if (!value.is_number_float() || !payload.contains(key)) continue;
      EXPECT_EQ(value.get<double>(), payload[key].get<double>()) << key;
      ++compared;
    }
  };
  same(energy.back(), m["last_reading"]["energy"]);
  same(production.back(), m["last_reading"]["production"]);
  same(environmental.back(), m["last_reading"]["environmental"]);
  EXPECT_GE(compared, 8u);
  EXPECT_EQ(m["totals"]["energy_total_kwh"].get<double>(),
            energy.back()["energy_total_kwh"].get<double>());
}

/// A request as a browser or a script would send it.
control::control_request request_of(std::string method, std::string target, std::string host,
                                    std::string content_type = {}, std::string origin = {}) {
  control::control_request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = std::move(host);
  r.content_type = std::move(content_type);
  r.origin = std::move(origin);
  return r;
}

// Issue 12: any web page could POST /shutdown to 127.0.0.1 (CSRF) or read the API through a
// name re-pointed at 127.0.0.1 (DNS rebinding).
TEST_F(router_test, a_host_that_does_not_name_the_endpoint_is_421_issue_12) {
  make();
  for (const char* host :
       {"evil.example", "evil.example:8089", "127.0.0.1.evil.example", "localhost.evil.example",
        "10.1.2.3:8089", "[::2]:8089", "a b", ":8089", "127.0.0.1:80x"}) {
    EXPECT_EQ(send(request_of("GET", "/status", host)).status, 421u) << host;
    EXPECT_EQ(send(request_of("GET", "/nope", host)).status, 421u) << host;
    EXPECT_EQ(send(request_of("POST", "/shutdown", host, "application/json")).status, 421u);
  }
  EXPECT_EQ(send(request_of("GET", "/status", "")).status, 400u);
  for (const char* host : {"127.0.0.1", "127.0.0.1:8089", "localhost:8089", "LOCALHOST",
                           "[::1]:8089", "127.3.4.5:1", "app.localhost:8089"})
    EXPECT_EQ(send(request_of("GET", "/status", host)).status, 200u) << host;
  EXPECT_EQ(engine->status().state, sim::run_state::running);

  control::control_router_options o;
  o.hosts.extra_hosts = {"192.0.2.7"};
  make(scenarios::time_mode::accelerated, o);
  EXPECT_EQ(send(request_of("GET", "/status", "192.0.2.7:8089")).status, 200u);
  EXPECT_EQ(send(request_of("GET", "/status", "192.0.2.8:8089")).status, 421u);
  o.hosts.any_ip_literal = true;
  make(scenarios::time_mode::accelerated, o);
  EXPECT_EQ(send(request_of("GET", "/status", "192.0.2.8:8089")).status, 200u);
  EXPECT_EQ(send(request_of("GET", "/status", "[2001:db8::1]:8089")).status, 200u);
  EXPECT_EQ(send(request_of("GET", "/status", "plant.example:8089")).status, 421u);
}

TEST_F(router_test, a_foreign_origin_is_403_issue_12) {
  make();
  const std::string stop = std::string(R"({"machine_ids":[")") + compressor_id + "\"]}";
  for (const char* origin : {"http://evil.example", "https://evil.example:8089", "null", "file://",
                             "http://127.0.0.1.evil.example", "http://127.0.0.1/x"}) {
    auto req = request_of("POST", "/stop", "127.0.0.1:8089", "application/json", origin);
    req.body = stop;
    EXPECT_EQ(send(req).status, 403u) << origin;
    EXPECT_EQ(send(request_of("GET", "/status", "127.0.0.1:8089", "", origin)).status, 403u);
  }
  EXPECT_TRUE(engine->machine(0).enabled);
  for (const char* origin : {"http://127.0.0.1:8089", "http://localhost:3000", "http://[::1]"}) {
    EXPECT_EQ(send(request_of("GET", "/status", "127.0.0.1:8089", "", origin)).status, 200u)
        << origin;
  }
}

TEST_F(router_test, a_change_without_a_json_content_type_is_415_issue_12) {
  make();
  const std::string stop = std::string(R"({"machine_ids":[")") + compressor_id + "\"]}";
  // What an HTML form or a no-cors fetch() can send cross-site without a preflight.
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx"}) {
    auto req = request_of("POST", "/stop", "127.0.0.1:8089", type);
    req.body = stop;
    EXPECT_EQ(send(req).status, 415u) << type;
    EXPECT_EQ(send(request_of("POST", "/shutdown", "127.0.0.1", type)).status, 415u) << type;
    EXPECT_EQ(send(request_of("DELETE", std::string("/machines/") + pump_id + "/faults",
                              "127.0.0.1", type))
                  .status,
              415u);
  }
  EXPECT_TRUE(engine->machine(0).enabled);
  EXPECT_EQ(engine->status().state, sim::run_state::running);
  auto req = request_of("POST", "/stop", "127.0.0.1:8089", "Application/JSON; charset=utf-8");
  req.body = stop;
  EXPECT_EQ(send(req).status, 200u);
  EXPECT_FALSE(engine->machine(0).enabled);
  // Reading needs no Content-Type.
  EXPECT_EQ(send(request_of("GET", "/status", "127.0.0.1")).status, 200u);
}

}  // namespace
