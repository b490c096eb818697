/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plain replay driver shared by every fuzz target, built with the normal
 * compiler: feeds every file of fuzz/corpus/XV_FUZZ_CORPUS (or the files
 * named on the command line) to LLVMFuzzerTestOneInput, so `make check` runs
 * each seed on every build (and under valgrind with check-valgrind).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *src = getenv("XV_TOP_SRCDIR");
	char dir[4096], path[8192];
	struct dirent *e;
	int i, count = 0;
	DIR *d;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay(argv[i]))
				return 1;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src ? src : ".",
		 XV_FUZZ_CORPUS);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (replay(path)) {
			closedir(d);
			return 1;
		}
		count++;
	}
	closedir(d);
	printf("replayed %d inputs from %s\n", count, dir);
	return count ? 0 : 1;
}
