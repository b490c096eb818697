/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plain main() replaying a fuzz corpus through a target, built with the
 * normal compiler so `make check` runs every seed (and valgrind can). With
 * arguments: replay those files; without: every file under
 * $XV_TOP_SRCDIR/fuzz/corpus/FUZZ_CORPUS.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *top = getenv("XV_TOP_SRCDIR");
	char dir[4096], path[8192];
	struct dirent *de;
	int i, count = 0;
	DIR *d;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay(argv[i]) < 0)
				return 1;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top ? top : ".",
		 FUZZ_CORPUS);
	d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (replay(path) < 0) {
			closedir(d);
			return 1;
		}
		count++;
	}
	closedir(d);
	printf("%s: replayed %d inputs\n", FUZZ_CORPUS, count);
	return count ? 0 : 1;
}
