/* SPDX-License-Identifier: MIT */
/*
 * test_fuzz_corpus.c - every input in tests/model/fuzz-corpus, replayed
 * through the fuzzer's own entry point (fuzz.c) with the suite's compiler
 * and sanitizers, one child process per input.  The corpus holds the seeds
 * and every input make fuzz ever found a bug with, so each find stays a
 * regression test of make check, named by its file.
 *
 * And the harness itself: the fuzzer boots thousands of guests in one
 * process through drive_inline, so one boot's result must not leak into
 * the next one's.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "driver.h"

#ifndef CORPUS_DIR
#error "CORPUS_DIR names the corpus directory"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs one input in a child: fuzz.c aborts on a finding. */
static bool replay(const char *path, char *why, size_t len)
{
    static uint8_t buf[4096];
    FILE *f = fopen(path, "rb");
    size_t n;
    pid_t pid;
    int status;

    if (!f) {
        snprintf(why, len, "cannot open it");
        return false;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        snprintf(why, len, "fork failed");
        return false;
    }
    if (pid == 0) {
        alarm(60);
        LLVMFuzzerTestOneInput(buf, n);
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    if (WIFSIGNALED(status))
        snprintf(why, len, "killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (its 60 s hang limit)" : "");
    else
        snprintf(why, len, "exit status %d", WEXITSTATUS(status));
    return false;
}

/* A refused build, then a good one, through the same result: the second must boot. */
static void test_inline_results_do_not_leak(void)
{
    static struct drive_result r;
    struct drive_opts refused = { .no_modules = true, .no_checks = true,
                                  .boot = { .builder = BUILD_DOM0, .nr_pages = 6154, .rd_len = 26759512,
                                            .rd_mapped = true } };
    struct drive_opts good = { .no_modules = true, .no_checks = true,
                               .boot = { .builder = BUILD_DOM0, .nr_pages = 8192 } };

    drive_inline(&refused, &r);
    CHECK(r.build_failed, "a dom0 of 24 MiB with a 25 MiB mapped ramdisk is refused by the builder: %s",
          r.L.err);
    drive_inline(&good, &r);
    CHECK(!r.build_failed && r.out == OUT_NONE,
          "the next boot, through the same result, boots (build_failed %d, %s %s)", r.build_failed,
          outcome_name(r.out), r.msg);
}

int main(void)
{
    test_inline_results_do_not_leak();
    struct dirent **names;
    int n = scandir(CORPUS_DIR, &names, NULL, by_name);
    unsigned int inputs = 0;

    if (!CHECK(n > 0, "the corpus %s has inputs", CORPUS_DIR))
        return check_done(TEST_NAME);
    for (int i = 0; i < n; i++) {
        char path[4096], why[128] = "";

        if (names[i]->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]->d_name);
            CHECK(replay(path, why, sizeof(why)), "fuzz input %s: %s", names[i]->d_name, why);
            inputs++;
        }
        free(names[i]);
    }
    free(names);
    printf("  %u inputs replayed\n", inputs);
    return check_done(TEST_NAME);
}
