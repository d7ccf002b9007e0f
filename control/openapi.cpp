#include "control/openapi.hpp"

namespace factorysim::control {

const std::string& openapi_document() {
  // Kept true by tests/control/openapi_test.cpp: every route of control_router::routes()
  // is here and every operation here is a route.
  static const std::string doc = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "factorysim control API",
    "version": "1.0.0",
    "description": "Drive a running factorysim simulation: start and stop machines, pause, change speed and intervals, inject and clear faults, read status and Prometheus metrics. See docs/control-api.md. Errors are JSON: {\"error\": \"<code>\", \"detail\": \"<reason>\"}."
  },
  "servers": [{"url": "http://127.0.0.1:8089"}],
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer", "description": "Needed by every POST, PUT, PATCH and DELETE when the run has a control token (--control-token or FACTORYSIM_CONTROL_TOKEN)."}
    },
    "parameters": {
      "machine_id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Machine id (uuid) as in the scenario"},
      "fault_id": {"name": "fault_id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}}
    },
    "responses": {
      "BadRequest": {"description": "Malformed JSON, wrong type, unknown key or value out of range", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "A control token is configured and the request has no valid Authorization: Bearer header", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "Unknown machine, factory or fault", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Conflict": {"description": "Not possible in the run's current state or mode", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "The body is larger than the limit (64 KiB)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "UnsupportedMediaType": {"description": "A change without Content-Type: application/json (CSRF defence; every route also answers 421 to a Host and 403 to an Origin of another site)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error", "detail"],
        "properties": {
          "error": {"type": "string", "example": "not_found", "description": "bad_request, unauthorized, forbidden, not_found, method_not_allowed, conflict, payload_too_large, unsupported_media_type, misdirected_request, request_header_fields_too_large, too_many_requests, service_unavailable, internal_error"},
          "detail": {"type": "string", "example": "unknown machine c0000000-0000-0000-0000-000000000099"}
        }
      },
      "Selection": {
        "type": "object", "additionalProperties": false,
        "description": "Which machines; absent (or an empty body) = all machines / the whole run. Lists must not be empty.",
        "properties": {
          "factory_ids": {"type": "array", "minItems": 1, "items": {"type": "string"}},
          "machine_ids": {"type": "array", "minItems": 1, "items": {"type": "string"}}
        }
      },
      "SelectionResult": {
        "type": "object",
        "properties": {
          "machines": {"type": "array", "items": {"type": "string"}, "description": "ids of the selected machines"},
          "changed": {"type": "integer", "description": "how many of them changed state"},
          "machines_enabled": {"type": "integer"},
          "state": {"$ref": "#/components/schemas/RunState"}
        }
      },
      "RunState": {"type": "string", "enum": ["created", "running", "paused", "stopping", "stopped"]},
      "StateResult": {"type": "object", "properties": {"state": {"$ref": "#/components/schemas/RunState"}}},
      "StreamCounts": {
        "type": "object",
        "properties": {
          "energy": {"type": "integer"}, "production": {"type": "integer"}, "environmental": {"type": "integer"},
          "status": {"type": "integer"}, "events": {"type": "integer"}, "total": {"type": "integer"}
        }
      },
      "Health": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}, "state": {"$ref": "#/components/schemas/RunState"}}},
      "Status": {
        "type": "object",
        "properties": {
          "state": {"$ref": "#/components/schemas/RunState"},
          "mode": {"type": "string", "enum": ["realtime", "accelerated", "backfill"]},
          "scenario": {"type": "string"},
          "simulated_time": {"type": "string", "format": "date-time"},
          "simulated_start": {"type": "string", "format": "date-time"},
          "simulated_end": {"type": "string", "format": "date-time", "nullable": true},
          "speed": {"type": "number"},
          "uptime_s": {"type": "number"},
          "root_seed": {"type": "integer"},
          "progress": {"type": "number", "nullable": true},
          "machines": {"type": "integer"},
          "machines_enabled": {"type": "integer"},
          "counters": {
            "type": "object",
            "properties": {
              "published": {"$ref": "#/components/schemas/StreamCounts"},
              "steps": {"type": "integer"}, "publish_errors": {"type": "integer"},
              "overruns": {"type": "integer"}, "reconnects": {"type": "integer"},
              "active_faults": {"type": "integer"}, "mqtt_sessions": {"type": "integer"},
              "mqtt_sessions_connected": {"type": "integer"}
            }
          },
          "control": {
            "type": "object",
            "properties": {
              "requests": {"type": "integer"}, "open_connections": {"type": "integer"},
              "connections_refused": {"type": "integer"}, "timeouts": {"type": "integer"}
            }
          }
        }
      },
      "Speed": {"type": "object", "required": ["speed"], "additionalProperties": false, "properties": {"speed": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1000000}}},
      "Factory": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "name": {"type": "string"}, "location": {"type": "string"},
          "timezone": {"type": "string"}, "machine_ids": {"type": "array", "items": {"type": "string"}}
        }
      },
      "MachineState": {"type": "string", "enum": ["stopped", "paused", "offline", "starting", "idle", "running", "maintenance", "fault"]},
      "MachineSummary": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "name": {"type": "string"}, "factory_id": {"type": "string"},
          "type": {"type": "string", "enum": ["compressor", "hvac", "motor", "pump", "injection_molding"]},
          "topic": {"type": "string"}, "enabled": {"type": "boolean"},
          "state": {"$ref": "#/components/schemas/MachineState"},
          "interval_s": {"type": "number"}, "active_faults": {"type": "integer"},
          "last_reading_time": {"type": "string", "format": "date-time", "nullable": true}
        }
      },
      "Machine": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "name": {"type": "string"}, "factory_id": {"type": "string"},
          "type": {"type": "string"}, "topic": {"type": "string"}, "enabled": {"type": "boolean"},
          "state": {"$ref": "#/components/schemas/MachineState"},
          "interval_s": {"type": "number"}, "rated_power_kw": {"type": "number"},
          "rated_voltage_v": {"type": "number"}, "rated_current_a": {"type": "number"},
          "next_deadline": {"type": "string", "format": "date-time"},
          "last_reading": {"type": "object", "nullable": true, "description": "time, is_running, energy{...}, production{...}, environmental{...}, dropped_streams[]"},
          "totals": {
            "type": "object",
            "properties": {
              "published": {"$ref": "#/components/schemas/StreamCounts"},
              "overruns": {"type": "integer"}, "production_count": {"type": "integer"},
              "production_count_good": {"type": "integer"}, "production_count_bad": {"type": "integer"},
              "energy_total_kwh": {"type": "number"}
            }
          },
          "active_faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}},
          "pending_faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}
        }
      },
      "MachinePatch": {
        "type": "object", "additionalProperties": false, "minProperties": 1,
        "properties": {
          "interval_s": {"type": "number", "minimum": 0.01, "maximum": 31622400},
          "enabled": {"type": "boolean"}
        }
      },
      "FaultRequest": {
        "type": "object", "required": ["type", "severity"], "additionalProperties": false,
        "properties": {
          "type": {"type": "string", "enum": ["spike", "dip", "drift", "stuck_sensor", "dropout", "noise_burst", "air_leak", "bearing_wear", "belt_slip", "cavitation", "heater_failure", "refrigerant_leak", "fouled_coil"]},
          "severity": {"type": "number", "minimum": 0, "maximum": 1},
          "duration_s": {"type": "number", "nullable": true, "exclusiveMinimum": true, "minimum": 0, "maximum": 31622400, "description": "absent or null = until cleared"},
          "signal": {"type": "string", "nullable": true, "description": "generic faults only: the payload key to act on (default power_kw)"}
        }
      },
      "Fault": {
        "type": "object",
        "properties": {
          "fault_id": {"type": "integer", "format": "int64"},
          "machine_id": {"type": "string", "description": "only in the 201 answer of POST"},
          "type": {"type": "string"}, "severity": {"type": "number"},
          "level": {"type": "string", "enum": ["normal", "warning", "critical"]},
          "signal": {"type": "string", "nullable": true},
          "signals": {"type": "array", "items": {"type": "string"}},
          "start": {"type": "string", "format": "date-time"},
          "end": {"type": "string", "format": "date-time", "nullable": true},
          "duration_s": {"type": "number", "nullable": true},
          "source": {"type": "string", "enum": ["scenario", "random", "api"]},
          "state": {"type": "string", "enum": ["active", "pending"]}
        }
      },
      "Cleared": {
        "type": "object",
        "properties": {"cleared": {"type": "integer"}, "fault_ids": {"type": "array", "items": {"type": "integer"}}}
      }
    }
  },
  "paths": {
    "/health": {
      "get": {"operationId": "get_health", "summary": "Liveness: the endpoint answers and the run's state",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}
    },
    "/status": {
      "get": {"operationId": "get_status", "summary": "Run state, mode, simulated time, speed, uptime and counters",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}
    },
    "/start": {
      "post": {"operationId": "post_start", "summary": "Start machines (all, or those named by factory_ids / machine_ids)", "security": [{"bearer": []}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Selection"}}}},
        "responses": {"200": {"description": "Started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SelectionResult"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/stop": {
      "post": {"operationId": "post_stop", "summary": "Stop machines: status offline, no readings (the process keeps running)", "security": [{"bearer": []}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Selection"}}}},
        "responses": {"200": {"description": "Stopped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SelectionResult"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/pause": {
      "post": {"operationId": "post_pause", "summary": "Pause the whole run (or, with ids, stop those machines)", "security": [{"bearer": []}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Selection"}}}},
        "responses": {"200": {"description": "Paused: StateResult without ids, SelectionResult with ids", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/StateResult"}, {"$ref": "#/components/schemas/SelectionResult"}]}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/resume": {
      "post": {"operationId": "post_resume", "summary": "Resume the whole run (or, with ids, start those machines)", "security": [{"bearer": []}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Selection"}}}},
        "responses": {"200": {"description": "Resumed: StateResult without ids, SelectionResult with ids", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/StateResult"}, {"$ref": "#/components/schemas/SelectionResult"}]}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/shutdown": {
      "post": {"operationId": "post_shutdown", "summary": "End the run: final offline status, flush, exit 0", "security": [{"bearer": []}],
        "responses": {"202": {"description": "Stopping", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StateResult"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}}
    },
    "/speed": {
      "put": {"operationId": "put_speed", "summary": "Change the accelerated clock's speed", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Speed"}}}},
        "responses": {"200": {"description": "The new speed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Speed"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/factories": {
      "get": {"operationId": "get_factories", "summary": "The factories and their machine ids",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Factory"}}}}}}}
    },
    "/machines": {
      "get": {"operationId": "get_machines", "summary": "Every machine (filters: factory_id, type)",
        "parameters": [
          {"name": "factory_id", "in": "query", "required": false, "schema": {"type": "string"}},
          {"name": "type", "in": "query", "required": false, "schema": {"type": "string"}}
        ],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/MachineSummary"}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}}}
    },
    "/machines/{id}": {
      "parameters": [{"$ref": "#/components/parameters/machine_id"}],
      "get": {"operationId": "get_machine", "summary": "One machine: state, interval, last reading, totals, faults",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Machine"}}}},
          "404": {"$ref": "#/components/responses/NotFound"}}},
      "patch": {"operationId": "patch_machine", "summary": "Change one machine's interval_s and/or enabled", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MachinePatch"}}}},
        "responses": {"200": {"description": "The machine after the change", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Machine"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}}
    },
    "/machines/{id}/faults": {
      "parameters": [{"$ref": "#/components/parameters/machine_id"}],
      "get": {"operationId": "get_faults", "summary": "Active and pending faults of a machine",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}}}},
          "404": {"$ref": "#/components/responses/NotFound"}}},
      "post": {"operationId": "post_fault", "summary": "Inject a fault now", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FaultRequest"}}}},
        "responses": {"201": {"description": "Injected; Location names the fault", "headers": {"Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fault"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}}},
      "delete": {"operationId": "delete_faults", "summary": "Clear every fault of a machine", "security": [{"bearer": []}],
        "responses": {"200": {"description": "Cleared", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cleared"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}, "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}}
    },
    "/machines/{id}/faults/{fault_id}": {
      "parameters": [{"$ref": "#/components/parameters/machine_id"}, {"$ref": "#/components/parameters/fault_id"}],
      "get": {"operationId": "get_fault", "summary": "One active or pending fault",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fault"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"}}},
      "delete": {"operationId": "delete_fault", "summary": "Clear one fault", "security": [{"bearer": []}],
        "responses": {"200": {"description": "Cleared", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cleared"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}}
    },
    "/metrics": {
      "get": {"operationId": "get_metrics", "summary": "Prometheus text exposition format 0.0.4",
        "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}
    },
    "/openapi.json": {
      "get": {"operationId": "get_openapi", "summary": "This API as an OpenAPI 3.0 document",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    }
  }
}
)json";
  return doc;
}

}  // namespace factorysim::control
