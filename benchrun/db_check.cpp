#include "benchrun/db_check.hpp"

#include <pqxx/pqxx>
#include <set>
#include <stdexcept>

namespace factorysim::benchrun {

std::vector<std::pair<std::string, std::string>> stream_tables() {
  return {{"energy", "energy_readings"},
          {"production", "production_data"},
          {"environmental", "environmental_data"},
          {"truth", "health_truth"}};
}

std::map<std::pair<std::string, std::string>, db_stream_rows> count_rows(
    const std::string& conninfo,
    const std::map<std::pair<std::string, std::string>, std::uint64_t>& published) {
  std::map<std::pair<std::string, std::string>, db_stream_rows> out;
  std::set<std::string> streams;
  for (const auto& [key, n] : published) streams.insert(key.second);
  try {
    pqxx::connection conn(conninfo);
    pqxx::nontransaction tx(conn);
    for (const auto& [stream, table] : stream_tables()) {
      if (!streams.count(stream)) continue;
      if (tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NULL")[0].as<bool>()) continue;
      // The published range per machine goes in as a VALUES list joined on machine_id, so
      // that one scan of the table answers every machine.
      std::string values;
      for (const auto& [key, n] : published) {
        if (key.second != stream) continue;
        if (!values.empty()) values += ',';
        values += "(" + tx.quote(key.first) + "::uuid," + std::to_string(n) + "::bigint)";
      }
      if (values.empty()) continue;
      const std::string sql =
          "WITH p(machine_id, published) AS (VALUES " + values +
          ") SELECT p.machine_id::text, count(t.machine_id), "
          "count(DISTINCT t.seq) FILTER (WHERE t.seq BETWEEN 1 AND p.published), "
          "count(t.machine_id) FILTER (WHERE t.seq IS NULL OR t.seq < 1 OR t.seq > p.published) "
          "FROM p LEFT JOIN " +
          tx.quote_name(table) + " t ON t.machine_id = p.machine_id GROUP BY p.machine_id";
      for (const auto& row : tx.exec(sql)) {
        out[{row[0].as<std::string>(), stream}] = {
            row[1].as<std::uint64_t>(), row[2].as<std::uint64_t>(), row[3].as<std::uint64_t>()};
      }
    }
  } catch (const pqxx::failure& e) {
    throw std::runtime_error(std::string("SQL check: ") + e.what());
  }
  return out;
}

std::pair<std::string, std::string> database_versions(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::nontransaction tx(conn);
  const auto pg = tx.exec1("SELECT version()")[0].as<std::string>();
  const auto ts = tx.exec1(
                        "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = "
                        "'timescaledb'), '')")[0]
                      .as<std::string>();
  return {pg, ts};
}

}  // namespace factorysim::benchrun
