#include "ingest/copy_buffer.hpp"

namespace factorysim::ingest {

void copy_buffer::begin() {
  static constexpr char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0'};
  data_.append(signature, sizeof signature);
  put_be32(0);  // flags: no OIDs
  put_be32(0);  // header extension length
}

}  // namespace factorysim::ingest
