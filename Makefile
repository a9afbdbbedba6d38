# PGXS front door: make, make install, make installcheck (pg_regress over sql/ and expected/).
# The C++ unit tests, the LibTorch library and the benchmark binary are built by CMake
# (scripts/test runs both).
MODULE_big = pgrec
EXTENSION = pgrec
DATA = $(wildcard extension/pgrec--*.sql)
PGFILEDESC = "pgrec - recommendation models in SQL"

CORE_SRCS = $(wildcard src/core/*.cc)
PG_SRCS = $(wildcard src/pg/*.cc)
OBJS = $(CORE_SRCS:.cc=.o) $(PG_SRCS:.cc=.o)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.

PG_CONFIG ?= pg_config
# release.flags: the optimisation and assert flags CMake uses too (asserts off).
PG_CXXFLAGS = -std=c++17 $(shell cat $(srcdir)/release.flags) -fPIC -Wall -Wno-register -Wno-missing-field-initializers \
	-I$(srcdir)/src/core -I$(srcdir)/src/pg -I/usr/include/eigen3
# OpenBLAS (a dependency of LibTorch in Debian): LAPACK for EASE's dense inverse.
SHLIB_LINK = -lstdc++ -lpthread -l:libopenblas.so.0

# PGXS builds LLVM bitcode for JIT and has no .cc rule for it.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

%.o: %.cc
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -c -o $@ $<

$(OBJS): $(wildcard src/core/*.h) $(wildcard src/pg/*.h) Makefile release.flags
