/*
 * The word count benchmark's native reference (bench/wordcount.ts builds it
 * with `cc -O2 -pthread`): counts the words of one file on T threads and
 * writes `word\tcount` lines sorted by the word's bytes (memcmp, a prefix
 * first), one file.
 *
 * A word is a maximal run of bytes that are not ASCII whitespace (space,
 * \t, \n, \v, \f, \r), as in examples/wordcount.ts. The file is mmap'ed and
 * cut into T ranges at line ends; each thread counts its range into its own
 * open-addressing table (FNV-1a hash, linear probing, keys pointing into the
 * mapping), then the tables are merged, sorted and written.
 *
 *   wordcount <file> <threads> <output>
 *
 * Prints one JSON line: {"ms": <count + merge + sort + write>, "words": N, "distinct": N}.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  uint32_t hash;
  uint32_t len;
  const unsigned char *key; /* NULL: empty slot */
  uint64_t count;
} Slot;

typedef struct {
  Slot *slots;
  size_t mask;
  size_t size;
} Table;

typedef struct {
  const unsigned char *start, *end;
  Table table;
  uint64_t words;
} Job;

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static void table_init(Table *t, size_t slots) {
  t->slots = calloc(slots, sizeof(Slot));
  t->mask = slots - 1;
  t->size = 0;
}

static void table_grow(Table *t) {
  Table bigger;
  table_init(&bigger, 2 * (t->mask + 1));
  for (size_t i = 0; i <= t->mask; i++) {
    Slot *s = &t->slots[i];
    if (s->key == NULL) continue;
    size_t j = s->hash & bigger.mask;
    while (bigger.slots[j].key != NULL) j = (j + 1) & bigger.mask;
    bigger.slots[j] = *s;
  }
  bigger.size = t->size;
  free(t->slots);
  *t = bigger;
}

static void table_add(Table *t, const unsigned char *key, uint32_t len, uint32_t hash, uint64_t n) {
  size_t i = hash & t->mask;
  for (;;) {
    Slot *s = &t->slots[i];
    if (s->key == NULL) {
      s->hash = hash;
      s->len = len;
      s->key = key;
      s->count = n;
      if (2 * ++t->size > t->mask + 1) table_grow(t);
      return;
    }
    if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0) {
      s->count += n;
      return;
    }
    i = (i + 1) & t->mask;
  }
}

static void *count_range(void *arg) {
  Job *job = arg;
  table_init(&job->table, 1 << 16);
  const unsigned char *p = job->start, *end = job->end;
  uint64_t words = 0;
  while (p < end) {
    while (p < end && is_space(*p)) p++;
    if (p == end) break;
    const unsigned char *w = p;
    uint32_t h = 2166136261u;
    while (p < end && !is_space(*p)) h = (h ^ *p++) * 16777619u;
    table_add(&job->table, w, (uint32_t)(p - w), h, 1);
    words++;
  }
  job->words = words;
  return NULL;
}

static int compare_slots(const void *a, const void *b) {
  const Slot *x = a, *y = b;
  uint32_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->key, y->key, n);
  if (c != 0) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: wordcount <file> <threads> <output>\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  if (threads < 1) threads = 1;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(argv[1]);
    return 1;
  }
  size_t size = (size_t)st.st_size;
  const unsigned char *data = size > 0 ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  if (size > 0 && data == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  double start = now_ms();
  Job *jobs = calloc(threads, sizeof(Job));
  pthread_t *ids = calloc(threads, sizeof(pthread_t));
  const unsigned char *from = data, *end = data + size;
  for (int t = 0; t < threads; t++) {
    const unsigned char *to = t == threads - 1 ? end : data + size / threads * (t + 1);
    if (to < from) to = from;
    while (to < end && to > data && to[-1] != '\n') to++;
    jobs[t].start = from;
    jobs[t].end = to;
    from = to;
    pthread_create(&ids[t], NULL, count_range, &jobs[t]);
  }
  uint64_t words = 0;
  Table *all = &jobs[0].table;
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    words += jobs[t].words;
  }
  for (int t = 1; t < threads; t++) {
    Table *tt = &jobs[t].table;
    for (size_t i = 0; i <= tt->mask; i++) {
      Slot *s = &tt->slots[i];
      if (s->key != NULL) table_add(all, s->key, s->len, s->hash, s->count);
    }
  }
  Slot *sorted = malloc((all->size + 1) * sizeof(Slot));
  size_t n = 0;
  for (size_t i = 0; i <= all->mask; i++)
    if (all->slots[i].key != NULL) sorted[n++] = all->slots[i];
  qsort(sorted, n, sizeof(Slot), compare_slots);
  FILE *out = fopen(argv[3], "wb");
  if (out == NULL) {
    perror(argv[3]);
    return 1;
  }
  setvbuf(out, NULL, _IOFBF, 1 << 20);
  for (size_t i = 0; i < n; i++) {
    fwrite(sorted[i].key, 1, sorted[i].len, out);
    fprintf(out, "\t%llu\n", (unsigned long long)sorted[i].count);
  }
  if (fclose(out) != 0) {
    perror(argv[3]);
    return 1;
  }
  printf("{\"ms\": %.0f, \"words\": %llu, \"distinct\": %zu}\n", now_ms() - start, (unsigned long long)words, n);
  return 0;
}
