/*
 * fuzz_replay_main.c - a main() for the fuzz targets in the normal build (gcc,
 * no libFuzzer), so every committed corpus input, the regression inputs
 * included, is replayed by ctest (paywire.fuzz_replay_<target>, see
 * tests/reliability.cmake) under the test build's sanitizers.
 * Arguments: files or directories (their regular files, not recursive).
 * Each input runs once through LLVMFuzzerTestOneInput; a target reports a
 * failure by aborting. Prints "<target>: replayed N inputs" and exits 0, or
 * 2 when a path cannot be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
fz_replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (fp != NULL) {
			fclose(fp);
		}
		return -1;
	}
	buf = malloc((size_t) len + 1); /* +1: never malloc(0) */
	if (buf == NULL || fread(buf, 1, (size_t) len, fp) != (size_t) len) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	(void) LLVMFuzzerTestOneInput(buf, (size_t) len);
	free(buf);
	return 1;
}

static int
fz_replay_path(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "replay: no such path %s\n", path);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		return fz_replay_file(path);
	}
	d = opendir(path);
	if (d == NULL) {
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char p[4096];
		struct stat fs;
		(void) snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (stat(p, &fs) == 0 && S_ISREG(fs.st_mode)) {
			int rv = fz_replay_file(p);
			if (rv < 0) {
				closedir(d);
				return -1;
			}
			n += rv;
		}
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	int total = 0;

	if (LLVMFuzzerInitialize != NULL) {
		(void) LLVMFuzzerInitialize(&argc, &argv);
	}
	for (int i = 1; i < argc; i++) {
		int n = fz_replay_path(argv[i]);
		if (n < 0) {
			return 2;
		}
		total += n;
	}
	printf("%s: replayed %d inputs\n", argc > 0 ? argv[0] : "replay", total);
	return total > 0 ? 0 : 2;
}
