// Model files: each model version's bytes also kept in a file under the data directory, which
// backends map read-only, so that a session's first call needs no read from the tables and every
// session shares one copy of the factors (the file's pages in the OS cache).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model.h"
#include "postgres_includes.h"

namespace pgrec::pg {

// The first bytes of a stored model (its header), which name its file.
constexpr std::size_t kModelHeaderBytes = 32;

// Maps the file of a version whose header is `header`, if there is a sound one; returns the model
// viewing it (with its training weights when `training_weights`), or null (a missing or unusable
// file, which is then removed).
std::unique_ptr<Model> map_model_file(std::int64_t version_id, const char* header, bool training_weights);

// Writes the file of a version from its bytes (checked), replacing any; failures only warn.
// With `transactional`, the file is removed again if the current transaction aborts.
void write_model_file(std::int64_t version_id, const char* bytes, std::size_t size, bool transactional = false);

// Removes files nothing will use again: with `databases` (the launcher), the files of databases
// not in the list; without (a dispatcher, inside SPI_connect), the files of this database whose
// version no longer exists, or all of them when pgrec is not installed here.
void prune_model_files(const Oid* databases, int n_databases, bool this_database_has_pgrec);

// Removes the files of the given versions of this database (unlinking a mapped file is safe:
// sessions keep their mapping).
void forget_model_files(const std::int64_t* version_ids, int n);

}  // namespace pgrec::pg
