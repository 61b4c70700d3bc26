/* SPDX-License-Identifier: Apache-2.0 */
#include "st_test.h"
#include "util/alloc.h"
#include "util/status.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int st_test_passed;

const char *
st_test_errmsg(void)
{
    return st_errmsg();
}

int
st_test_done(void)
{
    printf("%d passed, 0 failed\n", st_test_passed);
    fflush(stdout);
    return 0;
}

static uint64_t seed_value;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void
seed_init(void)
{
    const char *s = getenv("ST_SEED");
    seed_value = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    fprintf(stderr, "seed: ST_SEED=%" PRIu64 "\n", seed_value);
}

uint64_t
st_test_seed(void)
{
    pthread_once(&seed_once, seed_init); /* thread-safe: tests call it from worker threads */
    return seed_value;
}

void
st_test_rmrf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[PATH_MAX];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                st_test_rmrf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *
st_test_tmpdir(const char *name)
{
    const char *base = getenv("ST_TEST_TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/%s.%d", base, name, (int)getpid());
    st_test_rmrf(buf);
    if (mkdir(buf, 0755) != 0)
        ST_FAIL("mkdir %s", buf);
    return st_strdup(buf);
}

double
st_test_scale(void)
{
    const char *s = getenv("ST_TEST_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

int
st_test_crash_cycles(int base)
{
    const char *s = getenv("ST_CRASH_CYCLES");
    int n = s ? atoi(s) : (int)(base * st_test_scale());
    return n < 4 ? 4 : n;
}

void
st_test_sleep_micros(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int
st_test_read_ack(int fd, uint64_t *id)
{
    size_t got = 0;
    while (got < sizeof(*id)) {
        ssize_t r = read(fd, (char *)id + got, sizeof(*id) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

void
st_test_flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    ST_ASSERT(f != NULL && fseek(f, off, SEEK_SET) == 0);
    int c = fgetc(f);
    ST_ASSERT(c != EOF && fseek(f, off, SEEK_SET) == 0);
    ST_ASSERT(fputc(c ^ 0x5a, f) != EOF);
    ST_ASSERT(fclose(f) == 0);
}
