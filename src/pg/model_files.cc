#include <algorithm>
#include <cerrno>
#include <ctime>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_files.h"

#include "boundary.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_forget_model_files);
PG_FUNCTION_INFO_V1(pgrec_versions_deleted);
}

namespace pgrec::pg {

namespace {

constexpr char kFileMagic[8] = {'P', 'G', 'R', 'E', 'C', 'M', 'A', 'P'};
constexpr std::size_t kFilePrefix = 16;  // magic, pad length, reserved

// The directory of model files.
const char* files_dir() { return psprintf("%s/pgrec_models", DataDir); }

// The file of a version: database, version id and the model's checksum (from its header).
const char* file_path(std::int64_t version_id, const char* header) {
  std::uint64_t checksum;
  std::memcpy(&checksum, header + 24, sizeof checksum);
  return psprintf("%s/%u_%lld_%016llx.model", files_dir(), MyDatabaseId, static_cast<long long>(version_id),
                  static_cast<unsigned long long>(checksum));
}

// Writes all of `size` bytes; false on an error.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Files written by the current transaction, removed if it aborts (they name versions that will
// never exist). Allocated in TopMemoryContext; emptied at the end of every transaction.
List* pending_files = nullptr;
bool callback_registered = false;

// Drops the pending list at commit, unlinks its files at abort.
void on_transaction_end(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
      event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
    return;
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
    ListCell* cell;
    foreach (cell, pending_files) unlink(static_cast<const char*>(lfirst(cell)));
  }
  list_free_deep(pending_files);
  pending_files = nullptr;
}

// Remembers a file to remove if the transaction aborts.
void remove_on_abort(const char* path) {
  if (!callback_registered) {
    RegisterXactCallback(on_transaction_end, nullptr);
    callback_registered = true;
  }
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  pending_files = lappend(pending_files, pstrdup(path));
  MemoryContextSwitchTo(old);
}

}  // namespace

void forget_model_files(const std::int64_t* version_ids, int n) {
  if (n <= 0) return;
  DIR* dir = AllocateDir(files_dir());
  if (dir == nullptr) return;
  struct dirent* entry;
  while ((entry = ReadDirExtended(dir, files_dir(), DEBUG1)) != nullptr) {
    for (int j = 0; j < n; ++j) {
      const char* prefix = psprintf("%u_%lld_", MyDatabaseId, static_cast<long long>(version_ids[j]));
      if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0) unlink(psprintf("%s/%s", files_dir(), entry->d_name));
    }
  }
  FreeDir(dir);
}

void prune_model_files(const Oid* databases, int n_databases, bool this_database_has_pgrec) {
  DIR* dir = AllocateDir(files_dir());
  if (dir == nullptr) return;
  // Versions of this database that exist (read as the dispatcher: every row).
  std::int64_t* live = nullptr;
  uint64 n_live = 0;
  if (n_databases == 0 && this_database_has_pgrec &&
      SPI_execute("SELECT id FROM rec.model_versions ORDER BY id", true, 0) == SPI_OK_SELECT) {
    n_live = SPI_processed;
    live = static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * (n_live + 1)));
    for (uint64 r = 0; r < n_live; ++r) {
      bool isnull;
      live[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    }
  }
  const time_t now = time(nullptr);
  struct dirent* entry;
  while ((entry = ReadDirExtended(dir, files_dir(), DEBUG1)) != nullptr) {
    unsigned int database;
    long long version;
    if (sscanf(entry->d_name, "%u_%lld_", &database, &version) != 2) continue;
    const char* path = psprintf("%s/%s", files_dir(), entry->d_name);
    bool keep = true;
    if (n_databases > 0) {  // the launcher: files of databases that are gone
      keep = false;
      for (int j = 0; j < n_databases && !keep; ++j) keep = databases[j] == database;
    } else if (database == MyDatabaseId) {  // a dispatcher: files of versions that are gone
      struct stat st;
      // A file younger than ten minutes may belong to a version whose transaction is still open.
      if (stat(path, &st) != 0 || now - st.st_mtime < 600) continue;
      keep = std::binary_search(live, live + n_live, static_cast<std::int64_t>(version));
    }
    if (!keep) unlink(path);
  }
  FreeDir(dir);
}

std::unique_ptr<Model> map_model_file(std::int64_t version_id, const char* header, bool training_weights) {
  const char* path = file_path(version_id, header);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st;
  std::uint64_t payload;
  std::memcpy(&payload, header + 16, sizeof payload);
  const std::size_t blob = kModelHeaderBytes + payload;
  void* base = MAP_FAILED;
  if (fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) >= kFilePrefix + blob &&
      static_cast<std::uint64_t>(st.st_size) <= kFilePrefix + 7 + blob)
    base = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    unlink(path);
    return nullptr;
  }
  const std::size_t length = static_cast<std::size_t>(st.st_size);
  const char* bytes = static_cast<const char*>(base);
  std::uint32_t pad;
  std::memcpy(&pad, bytes + 8, sizeof pad);
  // The file must hold exactly the stored bytes (same header) after its prefix and pad.
  if (std::memcmp(bytes, kFileMagic, sizeof kFileMagic) != 0 || pad > 7 || kFilePrefix + pad + blob != length ||
      std::memcmp(bytes + kFilePrefix + pad, header, kModelHeaderBytes) != 0) {
    munmap(base, length);
    unlink(path);
    return nullptr;
  }
  std::unique_ptr<Model> model;
  bool unusable = false;
  PGREC_CXX({
    std::shared_ptr<const void> keep(base, [length](const void* p) { munmap(const_cast<void*>(p), length); });
    try {
      model = std::make_unique<Model>(deserialize_model_in_place(bytes + kFilePrefix + pad, blob, keep, training_weights));
    } catch (const pgrec::Error&) {
      unusable = true;  // damaged on disk: the tables still hold the model
    }
  });
  if (unusable) unlink(path);
  return model;
}

void write_model_file(std::int64_t version_id, const char* bytes, std::size_t size, bool transactional) {
  if (size < kModelHeaderBytes) return;
  std::size_t offset = 0, ids = 0;
  PGREC_CXX({
    offset = pgrec::factor_data_offset(bytes, size);
    ids = pgrec::item_ids_data_offset(bytes, size);
  });
  // Place the factors' floats on a 4-byte boundary of the (page-aligned) mapping, and integer item
  // ids on an 8-byte one when that keeps the factors aligned (it does: see item_ids_data_offset).
  std::uint32_t pad = static_cast<std::uint32_t>((4 - (kFilePrefix + offset) % 4) % 4);
  if (ids > 0) {
    const auto ids_pad = static_cast<std::uint32_t>((8 - (kFilePrefix + ids) % 8) % 8);
    if ((kFilePrefix + ids_pad + offset) % 4 == 0) pad = ids_pad;
  }
  if (MakePGDirectory(files_dir()) != 0 && errno != EEXIST) {
    ereport(WARNING, (errmsg("pgrec: could not create \"%s\": %m", files_dir())));
    return;
  }
  const char* path = file_path(version_id, bytes);
  const char* temp = psprintf("%s.%d.tmp", path, MyProcPid);
  const int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    ereport(WARNING, (errmsg("pgrec: could not write \"%s\": %m", temp)));
    return;
  }
  char prefix[kFilePrefix + 7] = {};
  std::memcpy(prefix, kFileMagic, sizeof kFileMagic);
  std::memcpy(prefix + 8, &pad, sizeof pad);
  const bool ok = write_all(fd, prefix, kFilePrefix + pad) && write_all(fd, bytes, size);
  close(fd);
  if (!ok || rename(temp, path) != 0) {
    ereport(WARNING, (errmsg("pgrec: could not write \"%s\": %m", path)));
    unlink(temp);
    return;
  }
  if (transactional) remove_on_abort(path);
}

}  // namespace pgrec::pg

// rec._forget_model_files(version_ids) removes the files of versions that were dropped
Datum pgrec_forget_model_files(PG_FUNCTION_ARGS) {
  ArrayType* ids = PG_GETARG_ARRAYTYPE_P(0);
  Datum* values;
  bool* nulls;
  int n;
  deconstruct_array(ids, INT8OID, 8, true, TYPALIGN_DOUBLE, &values, &nulls, &n);
  std::int64_t* version_ids = static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * (n + 1)));
  int kept = 0;
  for (int j = 0; j < n; ++j)
    if (!nulls[j]) version_ids[kept++] = DatumGetInt64(values[j]);
  pgrec::pg::forget_model_files(version_ids, kept);
  PG_RETURN_VOID();
}

// rec._versions_deleted(): statement trigger on rec.model_versions (deleted rows as `gone`);
// removes the mapped files of the versions deleted (on this server; standbys keep theirs)
Datum pgrec_versions_deleted(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pgrec: rec._versions_deleted must be called as a trigger");
  TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  Tuplestorestate* gone = trigger->tg_oldtable;
  if (gone == nullptr) return PointerGetDatum(nullptr);
  TupleTableSlot* slot = MakeSingleTupleTableSlot(trigger->tg_relation->rd_att, &TTSOpsMinimalTuple);
  const int64 n = tuplestore_tuple_count(gone);
  std::int64_t* ids = static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * (n + 1)));
  int kept = 0;
  tuplestore_rescan(gone);
  while (kept < n && tuplestore_gettupleslot(gone, true, false, slot)) {
    bool isnull;
    const Datum id = slot_getattr(slot, 1, &isnull);
    if (!isnull) ids[kept++] = DatumGetInt64(id);
  }
  ExecDropSingleTupleTableSlot(slot);
  pgrec::pg::forget_model_files(ids, kept);
  return PointerGetDatum(nullptr);
}
