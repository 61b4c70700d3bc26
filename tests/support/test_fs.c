/* SPDX-License-Identifier: Apache-2.0 */
/* test_fs.c -- see test_fs.h. */
#include "test_fs.h"

#include "st_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static void
copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        ST_FAIL("open %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        ST_FAIL("create %s: %s", to, strerror(errno));
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)r) != r)
            ST_FAIL("write %s: %s", to, strerror(errno));
    }
    if (r < 0)
        ST_FAIL("read %s: %s", from, strerror(errno));
    close(in);
    close(out);
}

void
st_test_copy_dir(const char *from, const char *to)
{
    st_test_rmrf(to);
    if (mkdir(to, 0755) != 0)
        ST_FAIL("mkdir %s: %s", to, strerror(errno));
    DIR *d = opendir(from);
    if (!d)
        ST_FAIL("opendir %s: %s", from, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char src[PATH_MAX], dst[PATH_MAX];
        snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
        snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
        struct stat st;
        if (lstat(src, &st) == 0 && S_ISREG(st.st_mode))
            copy_file(src, dst);
    }
    closedir(d);
}

void
st_test_write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        ST_FAIL("create %s: %s", path, strerror(errno));
    if (n > 0 && write(fd, p, n) != (ssize_t)n)
        ST_FAIL("write %s: %s", path, strerror(errno));
    if (close(fd) != 0)
        ST_FAIL("close %s: %s", path, strerror(errno));
}
