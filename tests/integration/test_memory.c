/* SPDX-License-Identifier: MIT */
/*
 * Integration test of secret hygiene in the running server (issue #11):
 * once requests that carried secrets have completed, patd's memory holds
 * none of them. Through the API the test sets a user's password, signs
 * in with it, creates tokens with the admin's token and with a session,
 * uses one, and then reads every readable mapping of the server
 * (/proc/PID/maps and /proc/PID/mem: root, or the same user while the
 * process is dumpable) looking for each plaintext. A scan that cannot
 * read the server's memory, or does not find a string known to be there,
 * is a failure, never a pass. It also checks that core dumps are off
 * (what prctl says, reported by patd at start, and /proc/PID/limits) and
 * that [server] core_dumps = true leaves them alone.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAX_NEEDLES 16

struct scan {
    const char *needle[MAX_NEEDLES];
    const char *label[MAX_NEEDLES];
    size_t n;
    bool found[MAX_NEEDLES];
    long long bytes; /* read from the server */
    bool opened;
};

static void
add(struct scan *s, const char *needle, const char *label)
{
    if (needle != NULL && s->n < MAX_NEEDLES) {
        s->needle[s->n] = needle;
        s->label[s->n++] = label;
    }
}

/* Searches one mapping [lo, hi) of the server for every needle. */
static void
scan_region(struct scan *s, int mem, unsigned long lo, unsigned long hi)
{
    static char buf[1 << 20];
    const size_t overlap = 128; /* longer than any needle */
    unsigned long at = lo;
    size_t keep = 0, win, i;
    ssize_t got;

    while (at < hi) {
        size_t want = sizeof(buf) - keep;
        if (want > hi - at)
            want = hi - at;
        got = pread(mem, buf + keep, want, (off_t)at);
        if (got <= 0)
            return; /* a guard page or a mapping that went away */
        s->bytes += got;
        at += (unsigned long)got;
        win = keep + (size_t)got;
        for (i = 0; i < s->n; i++)
            if (!s->found[i] &&
                memmem(buf, win, s->needle[i], strlen(s->needle[i])) != NULL)
                s->found[i] = true;
        /* Carry the tail over, so that a needle across reads is found. */
        keep = win < overlap ? win : overlap;
        memmove(buf, buf + win - keep, keep);
    }
}

static void
scan_server(struct h *h, struct scan *s)
{
    char path[64], line[512];
    FILE *maps;
    int mem;

    memset(s->found, 0, sizeof(s->found));
    s->bytes = 0;
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)h->pid);
    maps = fopen(path, "r");
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)h->pid);
    mem = open(path, O_RDONLY);
    s->opened = maps != NULL && mem >= 0;
    while (s->opened && fgets(line, sizeof(line), maps) != NULL) {
        unsigned long lo, hi;
        char *end;

        lo = strtoul(line, &end, 16);
        if (*end != '-')
            continue;
        hi = strtoul(end + 1, &end, 16);
        /*
         * Mappings larger than any heap here are reservations, such as
         * ASan's shadow memory (terabytes of zero pages): never data.
         */
        if (hi - lo > (1UL << 32))
            continue;
        if (end[0] != ' ' || end[1] != 'r' || strstr(line, "[vvar]") != NULL ||
            strstr(line, "[vsyscall]") != NULL)
            continue;
        scan_region(s, mem, lo, hi);
    }
    if (maps != NULL)
        fclose(maps);
    if (mem >= 0)
        close(mem);
}

/*
 * Scans until no needle but the control (needle 0, which must be found)
 * is left, or timeout_ms: the wiping happens as each request completes,
 * just after its answer is sent.
 */
static void
scan_until_clean(struct h *h, struct scan *s, long timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    size_t i;
    bool dirty;

    for (;;) {
        scan_server(h, s);
        dirty = false;
        for (i = 1; i < s->n; i++)
            dirty |= s->found[i];
        if (!s->opened || !dirty || h_now_ms() > deadline)
            return;
        h_poll_pause();
    }
}

/* The value of "Max core file size" in /proc/PID/limits: "0 0" or other. */
static bool
core_limit_zero(struct h *h)
{
    char path[64], line[256];
    FILE *f;
    bool zero = false;

    snprintf(path, sizeof(path), "/proc/%d/limits", (int)h->pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "Max core file size", 18) == 0) {
            char *p = line + 18, *end;
            unsigned long soft, hard;

            soft = strtoul(p, &end, 10);
            zero = end != p;
            p = end;
            hard = strtoul(p, &end, 10);
            zero = zero && end != p && soft == 0 && hard == 0;
        }
    }
    if (f != NULL)
        fclose(f);
    return zero;
}

/* Whether the server's log holds needle. */
static bool
log_has(struct h *h, const char *needle)
{
    char buf[65536];
    FILE *f = fopen(h->log, "r");
    size_t n = 0;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void
test_core_dumps(struct h *h)
{
    h_section("core dumps are off");
    CHECK(log_has(h, "patd: core dumps off (dumpable 0, core limit 0)"),
          "patd did not report core dumps off (see %s)", h->log);
    CHECK(core_limit_zero(h), "/proc/%d/limits: the core limit is not 0 0",
          (int)h->pid);
}

static void
test_no_plaintext_left(struct h *h)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    static const char password[] = "Corr3ct-Horse-Battery-Staple-91";
    struct scan s;
    struct resp *r;
    const char *uid, *t1, *t2, *t3, *control, *cookie, *csrf, *v;
    size_t i;

    h_section("no plaintext secret is left in the server's memory");
    /* The control: the listen address, in the configuration all along. */
    control = h->base + strlen("http://");
    uid = h_user(h, "memuser", "[\"patd:self\"]", password);
    t1 = uid ? h_token(h, uid, "mem-1", "[\"patd:self\"]", NULL) : NULL;
    t2 = uid ? h_token(h, uid, "mem-2", "[\"patd:self\"]", NULL) : NULL;
    r = http(h, "GET", "/v1/me", t1, NULL, NULL); /* a token in use */
    EXPECT_STATUS(r, 200);
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"memuser\",\"password\":\"%s\"}", password);
    EXPECT_STATUS(r, 200);
    v = strstr(r->set_cookie, "patd_session=");
    cookie = v ? hfmt(h, "Cookie: %.*s", (int)strcspn(v, ";"), v) : "";
    csrf = hfmt(h, "X-CSRF-Token: %s",
                jstr(r->json, "csrf_token") ? jstr(r->json, "csrf_token") : "");
    {
        const char *hdrs[] = {cookie, csrf, json[0], NULL};
        r = http(h, "POST", "/v1/me/tokens", NULL,
                 "{\"name\":\"mem-3\",\"scopes\":[\"patd:self\"]}", hdrs);
        EXPECT_STATUS(r, 201);
        t3 = jstr(r->json, "token");
        if (t3 != NULL)
            h_secret(h, t3);
    }
    if (!CHECK(uid && t1 && t2 && t3, "cannot set up the secrets"))
        return;

    memset(&s, 0, sizeof(s));
    add(&s, control, "the listen address (control)");
    add(&s, password, "the password");
    add(&s, t1, "a token created and used");
    add(&s, t2, "a token created");
    add(&s, t3, "a token created with a session");
    add(&s, h->admin_token, "the admin token sent in Authorization");
    scan_until_clean(h, &s, 5000);
    if (!CHECK(s.opened,
               "cannot read /proc/%d/mem: the scan did not run "
               "(run as root, or as patd's user)",
               (int)h->pid))
        return;
    CHECK(s.bytes > 1024 * 1024 && s.found[0],
          "the scan read %lld bytes and did not find the control string: "
          "it cannot be trusted",
          s.bytes);
    printf("# note: scanned %lld bytes of patd's memory\n", s.bytes);
    for (i = 1; i < s.n; i++)
        CHECK(!s.found[i], "%s is still in patd's memory", s.label[i]);
    EXPECT_HEALTHY(h);
}

int
main(int argc, char **argv)
{
    static const char *const allow[] = {"PATD_SERVER_CORE_DUMPS=true", NULL};
    struct h h;

    h_init(&h, argc, argv);
    if (h_start(&h, NULL)) {
        test_core_dumps(&h);
        test_no_plaintext_left(&h);
        h_stop(&h);
    }
    h_section("[server] core_dumps = true leaves them alone");
    if (h_start(&h, allow)) {
        CHECK(log_has(&h, "patd: core dumps allowed (dumpable 1"),
              "core_dumps = true: patd did not report them allowed");
        h_stop(&h);
    }
    return h_finish(&h);
}
