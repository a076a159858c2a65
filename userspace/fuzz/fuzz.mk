# SPDX-License-Identifier: GPL-2.0-only
#
# libFuzzer targets (Documentation/hardening.rst). A separate tree,
# build-fuzz/, with clang: the library and the harness instrumented for
# coverage, ASan and UBSan; each target links -fsanitize=fuzzer.
#
#   make fuzz            each target for FUZZ_SECONDS (default 60) seconds
#   make fuzz-replay     every corpus file once, then FUZZ_REPLAY_SECONDS each
#   make fuzz-corpus     rewrite the engine-recorded seeds
#   make fuzz-coverage   llvm-cov summary of userspace/lib over the corpus

FUZZ_BUILD	:= build-fuzz
FUZZ_CC		:= clang
FUZZ_TARGETS	:= server_first_flight client_flight server_flight cert_chain post_handshake \
		   client12_flight server12_flight ktlsd_msg identity_mem
FUZZ_SECONDS	?= 60
FUZZ_REPLAY_SECONDS ?= 10
FUZZ_CORPUS	:= userspace/fuzz/corpus
FUZZ_DEFS	:= -DFUZZ_CERT_DIR='"$(CURDIR)/userspace/fuzz/certs"'
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	:= $(CPPFLAGS) $(WARNINGS) $(CRYPTO_CFLAGS) $(FUZZ_DEFS) -O1 -g \
		   -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_COMMON_SRCS := userspace/fuzz/fuzz_common.c userspace/fuzz/fuzz_random.c
FUZZ_BINS	:= $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_ENV	:= ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libktls.a: $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/userspace/fuzz/%.o \
		 $(FUZZ_COMMON_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/libktls.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(CRYPTO_LIBS)

# The recorder is a plain program: no libFuzzer main.
$(FUZZ_BUILD)/mkcorpus: $(FUZZ_BUILD)/obj/userspace/fuzz/mkcorpus.o \
			$(FUZZ_COMMON_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/libktls.a
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(CRYPTO_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-corpus: $(FUZZ_BUILD)/mkcorpus
	$(FUZZ_ENV) $(FUZZ_BUILD)/mkcorpus $(FUZZ_CORPUS)

# New inputs land in build-fuzz/corpus/<target> (not in the committed seeds);
# crashes in build-fuzz/artifacts/<target>/, the whole output in build-fuzz/<target>.log.
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_ENV) $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -max_len=70000 \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ \
			$(FUZZ_BUILD)/corpus/$$t $(FUZZ_CORPUS)/$$t > $(FUZZ_BUILD)/$$t.log 2>&1; \
		rc=$$?; \
		grep -E '^#[0-9]+.*DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|^SUMMARY' \
			$(FUZZ_BUILD)/$$t.log; \
		[ $$rc -eq 0 ] || { echo "fuzz: $$t failed, see $(FUZZ_BUILD)/$$t.log"; exit 1; }; \
	done

# CI: the committed corpus once (a crash is a regression), then a short run.
fuzz-replay: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz-replay: $$t ($$(ls $(FUZZ_CORPUS)/$$t | wc -l) inputs)"; \
		mkdir -p $(FUZZ_BUILD)/replay/$$t; \
		$(FUZZ_ENV) $(FUZZ_BUILD)/$$t -runs=0 $(FUZZ_CORPUS)/$$t \
			> $(FUZZ_BUILD)/$$t.replay.log 2>&1 && \
		$(FUZZ_ENV) $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_REPLAY_SECONDS) \
			-max_len=70000 -artifact_prefix=$(FUZZ_BUILD)/replay/ \
			$(FUZZ_BUILD)/replay/$$t $(FUZZ_CORPUS)/$$t \
			>> $(FUZZ_BUILD)/$$t.replay.log 2>&1; \
		rc=$$?; \
		grep -E '^Done' $(FUZZ_BUILD)/$$t.replay.log; \
		[ $$rc -eq 0 ] || { tail -40 $(FUZZ_BUILD)/$$t.replay.log; exit 1; }; \
	done

# Coverage of the engine over the committed corpus plus what `make fuzz` found.
FUZZ_COV_BUILD	:= build-fuzz-cov
FUZZ_COV_CFLAGS	:= $(CPPFLAGS) $(WARNINGS) $(CRYPTO_CFLAGS) $(FUZZ_DEFS) -O1 -g \
		   -fprofile-instr-generate -fcoverage-mapping

$(FUZZ_COV_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_COV_BUILD)/%: $(FUZZ_COV_BUILD)/obj/userspace/fuzz/%.o \
		     $(FUZZ_COMMON_SRCS:%.c=$(FUZZ_COV_BUILD)/obj/%.o) \
		     $(LIB_SRCS:%.c=$(FUZZ_COV_BUILD)/obj/%.o)
	$(FUZZ_CC) -fprofile-instr-generate -fsanitize=fuzzer -o $@ $^ $(CRYPTO_LIBS)

fuzz-coverage: $(FUZZ_TARGETS:%=$(FUZZ_COV_BUILD)/%)
	@rm -f $(FUZZ_COV_BUILD)/*.profraw
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		LLVM_PROFILE_FILE=$(FUZZ_COV_BUILD)/$$t.profraw $(FUZZ_COV_BUILD)/$$t -runs=0 \
			$(FUZZ_CORPUS)/$$t $(FUZZ_BUILD)/corpus/$$t > /dev/null 2>&1 || exit 1; \
	done
	llvm-profdata-14 merge -o $(FUZZ_COV_BUILD)/all.profdata $(FUZZ_COV_BUILD)/*.profraw
	llvm-cov-14 report $(FUZZ_COV_BUILD)/server_first_flight \
		$(foreach t,$(filter-out server_first_flight,$(FUZZ_TARGETS)),-object $(FUZZ_COV_BUILD)/$(t)) \
		-instr-profile=$(FUZZ_COV_BUILD)/all.profdata $(LIB_SRCS)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
