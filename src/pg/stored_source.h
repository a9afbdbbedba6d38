// The source a model version was trained on, and the role whose rights read it again.
#pragma once

#include "postgres_includes.h"
#include "source_reader.h"

namespace pgrec::pg {

// The stored source of a model version, with the role its reads run as and that role's path.
struct StoredSource {
  SourceSpec spec;
  Oid owner;
  const char* search_path;  // null: "$user", public
};

// Reads how a version was trained and who owns it; raises 0A000, saying `why` needs the source,
// for a model without a source of its own, and 42704 when its owner no longer exists. Call inside
// SPI_connect.
StoredSource stored_source(int64 version_id, const char* why);

}  // namespace pgrec::pg
