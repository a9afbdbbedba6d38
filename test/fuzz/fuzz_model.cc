// libFuzzer target: the model reader and the aggregate-state reader must reject any bytes with
// an error, never crash or read out of bounds. Odd first byte: the rest is wrapped in a valid
// header and checksum, so the fuzzer reaches the payload parser behind the checksum.
#include <cstdint>
#include <cstring>
#include <string>

#include "byte_io.h"
#include "interactions.h"
#include "model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);
  try {
    pgrec::deserialize_model(bytes, size);
  } catch (const pgrec::Error&) {
  }
  try {
    pgrec::InteractionBuilder::deserialize(bytes, size);
  } catch (const pgrec::Error&) {
  }
  if (size > 0 && (data[0] & 1)) {
    std::string framed("PGRECMDL", 8);
    // Bits 1 and 2 of the first byte set the IVF and network flags, so those readers are reached too.
    const std::uint32_t version = pgrec::kModelFormatVersion;
    const std::uint32_t flags = ((data[0] & 2) ? 1 : 0) | ((data[0] & 4) ? 2 : 0);
    const std::uint64_t payload = size - 1;
    const std::uint64_t sum = pgrec::checksum64(bytes + 1, payload);
    framed.append(reinterpret_cast<const char*>(&version), 4);
    framed.append(reinterpret_cast<const char*>(&flags), 4);
    framed.append(reinterpret_cast<const char*>(&payload), 8);
    framed.append(reinterpret_cast<const char*>(&sum), 8);
    framed.append(bytes + 1, payload);
    try {
      pgrec::deserialize_model(framed.data(), framed.size());
    } catch (const pgrec::Error&) {
    }
  }
  return 0;
}
