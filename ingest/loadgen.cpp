#include "ingest/loadgen.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <queue>
#include <thread>
#include <unordered_map>

#include "ingest/wire_decoder.hpp"
#include "scenarios/plant.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::ingest {
namespace {

using clock = std::chrono::steady_clock;

struct worker_result {
  std::uint64_t rows = 0;
  std::uint64_t inserted = 0;
  std::uint64_t batches = 0;
  std::vector<double> commit_ms;
  unix_us first_time_us = std::numeric_limits<unix_us>::max();
  unix_us last_time_us = std::numeric_limits<unix_us>::min();
  std::string columns;
  std::string error;
};

// The MANTIS layer's raw table and the sensor of each (machine, energy key), or throws.
struct narrow_target {
  std::string table;
  std::unordered_map<std::string, std::array<uuid_bytes, 7>> sensors;  // machine id text -> ids
};

narrow_target load_narrow_target(pg_connection& db) {
  const auto schema = db.query(
      "SELECT quote_ident(value) FROM factorysim_settings WHERE key = 'mantis_schema'"
      " AND to_regclass(quote_ident(value) || '.sensor_data_raw') IS NOT NULL");
  if (schema.empty())
    throw std::runtime_error(
        "--narrow needs the MANTIS layer: run `factorysim db init --profile enms,mantis`");
  narrow_target t;
  t.table = schema.at(0).at(0) + ".sensor_data_raw";
  for (const auto& r : db.query("SELECT asset_id::text, signal_key, id::text FROM " +
                                schema.at(0).at(0) + ".sensors")) {
    for (std::size_t k = 0; k < 7; ++k)
      if (measured_keys[k] == r.at(1))
        if (const auto id = parse_uuid(r.at(2))) t.sensors[r.at(0)][k] = *id;
  }
  return t;
}

struct shared_state {
  std::atomic<std::uint64_t> committed{0};
  std::atomic<bool> failed{false};
};

void run_worker(const loadgen_options& o, const scenarios::scenario& s, unsigned index,
                std::uint64_t row_quota, clock::time_point t0, shared_state& shared,
                const std::atomic<bool>& stop, worker_result& out) {
  try {
    scenarios::plant plant(s);
    pg_connection db(o.db);
    copy_writer<energy_row> writer(table_codec<energy_row>("energy_readings", energy_columns()),
                                   o.mode);
    narrow_target narrow;
    std::unique_ptr<copy_writer<narrow_row>> narrow_writer;
    if (o.narrow) {
      narrow = load_narrow_target(db);
      narrow_writer = std::make_unique<copy_writer<narrow_row>>(
          table_codec<narrow_row>(narrow.table, narrow_columns()), o.mode);
      narrow_writer->prepare(db);
      out.columns = narrow_writer->columns();
    } else {
      writer.prepare(db);
      out.columns = writer.columns();
    }
    const auto batch_size = [&] { return o.narrow ? narrow_writer->rows() : writer.rows(); };

    // Machines of this worker, stepped in time order (earliest next reading first).
    using entry = std::pair<machines::sim_time, std::size_t>;
    std::priority_queue<entry, std::vector<entry>, std::greater<>> next;
    std::vector<uuid_bytes> ids(plant.size());
    std::vector<std::array<uuid_bytes, 7>> sensor_ids(plant.size());
    std::vector<std::int64_t> seq(plant.size(), 0);
    const machines::sim_time start =
        o.start_us ? machines::sim_time(std::chrono::milliseconds(*o.start_us / 1000))
                   : s.from.value_or(machines::sim_time(std::chrono::milliseconds(1717200000000)));
    for (std::size_t i = index; i < plant.size(); i += o.workers) {
      const auto id = parse_uuid(plant.machine_at(i).config().id);
      if (!id) throw std::runtime_error("machine id is not a uuid: " + plant.machine_at(i).config().id);
      ids[i] = *id;
      if (o.narrow) {
        const auto it = narrow.sensors.find(plant.machine_at(i).config().id);
        if (it == narrow.sensors.end())
          throw std::runtime_error("machine " + plant.machine_at(i).config().id +
                                   " has no MANTIS sensors: run `factorysim db init --profile "
                                   "enms,mantis` with this scenario");
        sensor_ids[i] = it->second;
      }
      next.emplace(start + plant.machine_at(i).config().interval, i);
    }
    if (next.empty()) return;  // more workers than machines

    const double worker_rate =
        o.rate_rows_per_s > 0 ? o.rate_rows_per_s / static_cast<double>(o.workers) : 0;
    std::vector<machines::fault_event> events;
    const bool by_rows = row_quota > 0;
    const auto deadline = t0 + std::chrono::duration_cast<clock::duration>(
                                   std::chrono::duration<double>(o.duration_s));
    std::uint64_t generated = 0;
    energy_row row;
    while (!stop && !shared.failed) {
      if (by_rows ? generated >= row_quota : clock::now() >= deadline) break;
      const std::uint64_t want =
          by_rows ? std::min<std::uint64_t>(o.batch_rows, row_quota - generated) : o.batch_rows;
      while (batch_size() < want) {
        auto [t, i] = next.top();
        next.pop();
        events.clear();
        const machines::reading r = plant.step(i, t, events);
        next.emplace(t + plant.machine_at(i).config().interval, i);
        if (r.energy_dropped) continue;  // a dropout fault: the engine would not publish it
        row.h.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            r.time.time_since_epoch())
                            .count();
        row.h.machine_id = ids[i];
        row.h.seq = ++seq[i];
        row.power_kw = r.energy.power_kw;
        row.energy_kwh = r.energy.energy_kwh;
        row.energy_total_kwh = r.energy.energy_total_kwh;
        row.voltage_v = r.energy.voltage_v;
        row.current_a = r.energy.current_a;
        row.power_factor = r.energy.power_factor;
        row.frequency_hz = r.energy.frequency_hz;
        out.first_time_us = std::min(out.first_time_us, row.h.time_us);
        out.last_time_us = std::max(out.last_time_us, row.h.time_us);
        if (o.narrow) {
          const double v[] = {row.power_kw,  row.energy_kwh,   row.energy_total_kwh, row.voltage_v,
                              row.current_a, row.power_factor, row.frequency_hz};
          for (std::size_t k = 0; k < 7; ++k)
            narrow_writer->add(narrow_row{row.h.time_us, sensor_ids[i][k], v[k]});
        } else {
          writer.add(row);
        }
      }
      const std::size_t n = batch_size();
      const auto c0 = clock::now();
      db.exec("BEGIN");
      const auto fr = o.narrow ? narrow_writer->flush(db) : writer.flush(db);
      db.exec("COMMIT");
      const auto c1 = clock::now();
      out.commit_ms.push_back(std::chrono::duration<double, std::milli>(c1 - c0).count());
      out.rows += n;
      out.inserted += static_cast<std::uint64_t>(fr.inserted);
      ++out.batches;
      generated += n;
      shared.committed += n;
      if (worker_rate > 0) {
        const auto due = t0 + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                  static_cast<double>(generated) / worker_rate));
        std::this_thread::sleep_until(due);
      }
    }
  } catch (const std::exception& e) {
    out.error = e.what();
    shared.failed = true;
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(k, v.size() - 1)];
}

}  // namespace

loadgen_summary run_loadgen(const loadgen_options& o, const std::atomic<bool>& stop,
                            std::ostream& log) {
  if ((o.rows == 0) == (o.duration_s <= 0))
    throw std::invalid_argument("give exactly one of --rows and --duration");
  if (o.workers == 0) throw std::invalid_argument("--workers must be >= 1");
  const scenarios::scenario s = scenarios::load_scenario(o.scenario_file);
  {
    // Every machine must exist, or each batch would fail on the foreign key.
    pg_connection db(o.db);
    const auto rows = db.query("SELECT id::text FROM machines");
    std::size_t absent = 0;
    std::string example;
    for (const auto& m : s.machines) {
      bool found = false;
      for (const auto& r : rows) found = found || r.at(0) == m.id;
      if (!found && absent++ == 0) example = m.id;
    }
    if (absent)
      throw std::runtime_error(std::to_string(absent) + " machines of " + o.scenario_file +
                               " are not in the database (e.g. " + example +
                               "): run `factorysim db init --scenario " + o.scenario_file + "`");
  }
  const unsigned workers = std::min<unsigned>(o.workers, static_cast<unsigned>(std::max<std::size_t>(s.machines.size(), 1)));
  loadgen_options eff = o;
  eff.workers = workers;
  log << "loadgen: " << s.machines.size() << " machines, " << workers << " workers, batch "
      << o.batch_rows << " rows, " << (o.mode == write_mode::staged ? "staged" : "direct")
      << " COPY" << (o.narrow ? " of MANTIS narrow rows (7 per reading)" : "") << std::endl;

  shared_state shared;
  std::vector<worker_result> results(workers);
  std::vector<std::thread> threads;
  const auto t0 = clock::now();
  for (unsigned w = 0; w < workers; ++w) {
    const std::uint64_t quota = o.rows ? o.rows / workers + (w < o.rows % workers ? 1 : 0) : 0;
    threads.emplace_back(run_worker, std::cref(eff), std::cref(s), w, quota, t0,
                         std::ref(shared), std::cref(stop), std::ref(results[w]));
  }
  // Per-second throughput, sampled by this thread.
  loadgen_summary sum;
  std::uint64_t last = 0;
  auto next_tick = t0 + std::chrono::seconds(1);
  bool running = true;
  while (running) {
    std::this_thread::sleep_until(std::min(next_tick, clock::now() + std::chrono::milliseconds(20)));
    running = false;
    const std::uint64_t now_rows = shared.committed;
    if (clock::now() >= next_tick) {
      sum.rows_per_second.push_back(now_rows - last);
      last = now_rows;
      next_tick += std::chrono::seconds(1);
      log << "loadgen: " << sum.rows_per_second.size() << " s, " << now_rows << " rows, "
          << sum.rows_per_second.back() << " rows/s" << std::endl;
    }
    const bool all_rows = o.rows && now_rows >= o.rows;
    const bool time_up =
        o.duration_s > 0 && clock::now() - t0 >= std::chrono::duration<double>(o.duration_s);
    running = !(all_rows || time_up || shared.failed || stop);
  }
  for (auto& t : threads) t.join();
  const auto t1 = clock::now();
  if (shared.committed > last) sum.rows_per_second.push_back(shared.committed - last);

  std::vector<double> commit_ms;
  sum.first_time_us = std::numeric_limits<unix_us>::max();
  sum.last_time_us = std::numeric_limits<unix_us>::min();
  for (const auto& r : results) {
    if (!r.error.empty()) throw std::runtime_error(r.error);
    sum.rows += r.rows;
    sum.rows_inserted += r.inserted;
    sum.batches += r.batches;
    commit_ms.insert(commit_ms.end(), r.commit_ms.begin(), r.commit_ms.end());
    sum.first_time_us = std::min(sum.first_time_us, r.first_time_us);
    sum.last_time_us = std::max(sum.last_time_us, r.last_time_us);
    if (!r.columns.empty()) sum.columns = r.columns;
  }
  sum.seconds = std::chrono::duration<double>(t1 - t0).count();
  sum.rows_per_s = sum.seconds > 0 ? static_cast<double>(sum.rows) / sum.seconds : 0;
  sum.commit_p50_ms = percentile(commit_ms, 0.50);
  sum.commit_p99_ms = percentile(commit_ms, 0.99);
  sum.commit_max_ms = commit_ms.empty() ? 0 : *std::max_element(commit_ms.begin(), commit_ms.end());
  sum.workers = workers;
  sum.batch_rows = o.batch_rows;
  sum.mode = o.mode == write_mode::staged ? "staged" : "direct";
  sum.table = o.narrow ? "sensor_data_raw" : "energy_readings";
  return sum;
}

std::string to_json(const loadgen_summary& s) {
  nlohmann::json j;
  j["rows"] = s.rows;
  j["rows_inserted"] = s.rows_inserted;
  j["batches"] = s.batches;
  j["seconds"] = s.seconds;
  j["rows_per_s"] = s.rows_per_s;
  j["commit_latency_ms"] = {{"p50", s.commit_p50_ms}, {"p99", s.commit_p99_ms},
                            {"max", s.commit_max_ms}};
  j["rows_per_second"] = s.rows_per_second;
  j["first_time"] = s.rows ? format_rfc3339_ms(s.first_time_us) : "";
  j["last_time"] = s.rows ? format_rfc3339_ms(s.last_time_us) : "";
  j["workers"] = s.workers;
  j["batch_rows"] = s.batch_rows;
  j["mode"] = s.mode;
  j["table"] = s.table.empty() ? "energy_readings" : s.table;
  j["columns"] = s.columns;
  return j.dump(2) + "\n";
}

}  // namespace factorysim::ingest
