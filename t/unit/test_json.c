
/*
 * Copyright (C) wsgate authors
 *
 * JSON that could mean something else to the platform than to wsgate:
 * keys equal under case folding (Go's encoding/json matches keys that
 * way), and \u0000 in keys and in checked values (cJSON's strings end at
 * it), in the register payload and in the A2A envelope.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_check.h"


/* the reasons as the contract spells them, not the header's macros */

#define OK           NULL
#define FOLD_DUP     "duplicate key after case folding"
#define NUL_KEY      "NUL character in a key"
#define NUL_METHOD   "NUL character in method"
#define NUL_ID       "NUL character in id"
#define JSONRPC      "jsonrpc must be \"2.0\""
#define METHOD       "method must be a string"
#define ID           "id must be a string or a number"
#define DUP_JSONRPC  "duplicate jsonrpc member"
#define DUP_METHOD   "duplicate method member"
#define DUP_ID       "duplicate id member"

#define UUID1        "123e4567-e89b-12d3-a456-426614174000"
#define REG_HEAD     "{'id':'" UUID1 "','url':'https://agent.example.com/',"  \
                     "'agent_card':{'name':'agent'}"
#define RPC_HEAD     "{'jsonrpc':'2.0','method':'m','id':1"


/* bodies are written with ' for " and turned back before the check */

static u_char *
json_body(const char *body, size_t len)
{
    size_t   i;
    u_char  *p;

    p = unit_dup(body, len);

    for (i = 0; i < len; i++) {
        if (p[i] == '\'') {
            p[i] = '"';
        }
    }

    return p;
}


/*
 * Two keys of one object, equal under the folding table or not; each
 * pair is tried in both orders, in the A2A params and in an extra member
 * of a valid register payload.  Keys are raw UTF-8 or JSON escapes.
 */

typedef struct {
    int          line;
    const char  *a;
    const char  *b;
    int          dup;
} fold_case_t;


#define SAME(a, b)   { __LINE__, a, b, 1 }
#define DIFF(a, b)   { __LINE__, a, b, 0 }


static const fold_case_t  fold_cases[] = {

    /* exact duplicates and ASCII */
    SAME("a", "a"),
    SAME("", ""),
    SAME("a", "A"),
    SAME("jsonrpc", "JSONRPC"),
    SAME("Content-Type", "content-type"),
    SAME("x_Y-1", "X_y-1"),
    DIFF("a", "b"),
    DIFF("a", "ab"),
    DIFF("", "a"),
    DIFF("@", "`"),
    DIFF("[", "{"),
    DIFF("_", "\x7f"),
    DIFF("a1", "A2"),

    /* the characters Go folds to ASCII letters */
    SAME("s", "\xc5\xbf"),                  /* U+017F long s */
    SAME("S", "\xc5\xbf"),
    SAME("json", "j\xc5\xbfon"),
    SAME("k", "\xe2\x84\xaa"),              /* U+212A Kelvin sign */
    SAME("K", "\xe2\x84\xaa"),
    SAME("i", "\xc4\xb0"),                  /* U+0130 dotted capital I */
    SAME("I", "\xc4\xb1"),                  /* U+0131 dotless small i */
    SAME("\xc4\xb0", "\xc4\xb1"),
    SAME("id", "\xc4\xb1" "d"),
    DIFF("j", "\xc5\xbf"),
    DIFF("l", "\xc4\xb1"),

    /* Latin-1 */
    SAME("\xc3\x80", "\xc3\xa0"),           /* À à */
    SAME("\xc3\x9e", "\xc3\xbe"),           /* Þ þ */
    SAME("\xc3\x89t\xc3\xa9", "\xc3\xa9T\xc3\x89"),
    DIFF("\xc3\x97", "\xc3\xb7"),           /* × ÷: no case */
    DIFF("\xc3\x9f", "\xc3\xbf"),           /* ß ÿ */
    DIFF("\xc3\x9f", "ss"),
    DIFF("\xc2\xbf", "\xc3\x9f"),
    SAME("\xc2\xb5", "\xce\xbc"),           /* micro sign, mu */
    SAME("\xc2\xb5", "\xce\x9c"),           /* micro sign, capital mu */
    SAME("\xc3\x85", "\xe2\x84\xab"),       /* Å, Angstrom sign */
    SAME("\xc3\xa5", "\xe2\x84\xab"),
    SAME("\xc5\xb8", "\xc3\xbf"),           /* Ÿ ÿ */
    SAME("\xe1\xba\x9e", "\xc3\x9f"),       /* ẞ ß */

    /* Latin Extended-A: capitals even, then odd, then even, then odd */
    SAME("\xc4\x80", "\xc4\x81"),           /* U+0100 U+0101 */
    SAME("\xc4\xae", "\xc4\xaf"),           /* U+012E U+012F */
    SAME("\xc4\xb2", "\xc4\xb3"),           /* U+0132 U+0133 */
    SAME("\xc4\xb6", "\xc4\xb7"),           /* U+0136 U+0137 */
    DIFF("\xc4\xb7", "\xc4\xb8"),           /* U+0137 U+0138 */
    DIFF("\xc4\xb8", "\xc4\xb9"),           /* U+0138 U+0139 */
    SAME("\xc4\xb9", "\xc4\xba"),           /* U+0139 U+013A */
    DIFF("\xc4\xba", "\xc4\xbb"),           /* U+013A U+013B */
    SAME("\xc5\x87", "\xc5\x88"),           /* U+0147 U+0148 */
    DIFF("\xc5\x88", "\xc5\x89"),           /* U+0148 U+0149 */
    DIFF("\xc5\x89", "\xc5\x8a"),           /* U+0149 U+014A */
    SAME("\xc5\x8a", "\xc5\x8b"),           /* U+014A U+014B */
    DIFF("\xc5\x8b", "\xc5\x8c"),           /* U+014B U+014C */
    SAME("\xc5\xb6", "\xc5\xb7"),           /* U+0176 U+0177 */
    DIFF("\xc5\xb7", "\xc5\xb8"),           /* U+0177 U+0178 */
    SAME("\xc5\xb9", "\xc5\xba"),           /* U+0179 U+017A */
    DIFF("\xc5\xba", "\xc5\xbb"),           /* U+017A U+017B */
    SAME("\xc5\xbd", "\xc5\xbe"),           /* U+017D U+017E */
    DIFF("\xc5\xbe", "\xc5\xbf"),           /* U+017E U+017F */
    DIFF("\xc6\x80", "\xc6\x81"),           /* U+0180 U+0181: itself */

    /* Greek */
    SAME("\xce\x91", "\xce\xb1"),           /* Α α */
    SAME("\xce\xa9", "\xcf\x89"),           /* Ω ω */
    SAME("\xce\xa3", "\xcf\x83"),           /* Σ σ */
    SAME("\xcf\x82", "\xcf\x83"),           /* ς σ */
    SAME("\xcf\x82", "\xce\xa3"),
    DIFF("\xce\x90", "\xce\xb0"),           /* U+0390 U+03B0 */
    DIFF("\xce\xaa", "\xcf\x8a"),           /* U+03AA U+03CA: itself */
    DIFF("\xce\xa2", "\xcf\x82"),           /* U+03A2 unassigned */
    DIFF("\xce\x91", "a"),

    /* Cyrillic */
    SAME("\xd0\x90", "\xd0\xb0"),           /* А а */
    SAME("\xd0\xaf", "\xd1\x8f"),           /* Я я */
    SAME("\xd0\x80", "\xd1\x90"),           /* Ѐ ѐ */
    SAME("\xd0\x8f", "\xd1\x9f"),           /* Џ џ */
    DIFF("\xd0\xb0", "a"),                  /* Cyrillic and Latin a */
    DIFF("\xd0\xb0", "\xd1\x90"),
    DIFF("\xd1\xa0", "\xd1\xa1"),           /* U+0460 U+0461: itself */

    /* escapes are decoded first */
    SAME("\\u0041", "a"),
    SAME("\\u212a", "K"),
    SAME("\\u212A", "\xe2\x84\xaa"),
    SAME("\\u017f", "s"),
    SAME("\\u0131d", "ID"),
    SAME("\\ud83d\\ude00", "\xf0\x9f\x98\x80"),
    SAME("\\u0022", "\\\""),
    DIFF("\\\\u0041", "a"),

    /* invalid UTF-8: every bad byte is U+FFFD, as Go reads it */
    SAME("a\xff", "a\xfe"),
    SAME("a\xff", "a\\ufffd"),
    SAME("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"),   /* overlong "/" */
    SAME("\xed\xa0\x80", "\xff\xff\xff"),            /* a surrogate */
    SAME("\xe2\x84", "\xef\xbf\xbd\xef\xbf\xbd"),   /* cut short */
    SAME("\xe2\x84x", "\xff\xfeX"),
    SAME("\xf4\x90\x80\x80", "\xff\xff\xff\xff"),   /* above U+10FFFF */
    SAME("\x80", "\xef\xbf\xbd"),
    DIFF("\xff", "\xff\xff"),
    DIFF("\xc0\xaf", "/"),
    DIFF("\xe0\x80\xaf", "/"),                     /* overlong, 3 */
    SAME("\xe0\x80\xaf", "\xff\xff\xff"),
    DIFF("\xf0\x80\x80\xaf", "/"),                 /* overlong, 4 */
    DIFF("\xe0\x81\x81", "A"),
    DIFF("\xe2\x84\xaa", "\xe2\x84\xab"),
};


static void
test_fold_table(void)
{
    int                 k;
    char                body[256];
    size_t              i, n;
    u_char             *buf;
    const char         *a, *b;
    const fold_case_t  *t;

    ngx_http_wsgate_verdict_t  v;

    for (i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
        t = &fold_cases[i];
        UNIT_ROW(t->line);

        for (k = 0; k < 2; k++) {
            a = k ? t->b : t->a;
            b = k ? t->a : t->b;

            unit_case("a2a, %s order", k ? "reverse" : "table");

            n = snprintf(body, sizeof(body),
                         RPC_HEAD ",'params':{'%s':1,'%s':2}}", a, b);
            buf = json_body(body, n);

            CHECK_STR(ngx_http_wsgate_a2a_check(buf, n),
                      t->dup ? FOLD_DUP : OK);
            free(buf);

            unit_case("register, %s order", k ? "reverse" : "table");

            n = snprintf(body, sizeof(body),
                         REG_HEAD ",'x':[{'%s':null,'%s':[]}]}", a, b);
            buf = json_body(body, n);

            CHECK_INT(ngx_http_wsgate_register_check(buf, n, 0, &v, NULL),
                      t->dup ? -1 : 0);

            if (t->dup) {
                CHECK_STR(v.field, "body");
                CHECK_STR(v.reason, FOLD_DUP);
            }

            free(buf);
        }
    }

    UNIT_ROW_END();
}


typedef struct {
    int          line;
    const char  *body;
    size_t       len;
    const char  *want;
} a2a_case_t;


#define A2A(body, want)   { __LINE__, body, sizeof(body) - 1, want }


static const a2a_case_t  a2a_cases[] = {

    /* the examples of the contract */
    A2A("{'jsonrpc':'2.0','JSONRPC':'1.0','method':'m','id':1}",
        DUP_JSONRPC),
    A2A("{'jsonrpc':'2.0','j\xc5\xbfonrpc':'1.0','method':'m','id':1}",
        DUP_JSONRPC),
    A2A("{'jsonrpc':'2.0','j\\u017fonrpc':'1.0','method':'m','id':1}",
        DUP_JSONRPC),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'ID':2}", DUP_ID),
    A2A(RPC_HEAD ",'a':{'k':1,'\xe2\x84\xaa':2}}", FOLD_DUP),
    A2A("{'a':{'k':1,'\\u212a':2},'jsonrpc':'2.0','method':'m','id':1}",
        FOLD_DUP),

    /* the checked members under folding */
    A2A("{'jsonrpc':'2.0','method':'m','\xc4\xb1" "d':2,'id':1}", DUP_ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'\xc4\xb0" "D':2}", DUP_ID),
    A2A("{'jsonrpc':'2.0','method':'m','\\u0130d':2,'id':1}", DUP_ID),
    A2A("{'jsonrpc':'2.0','method':'m','\xc4\xb1" "d':1}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','me\xc5\xbfhod':'n','id':1}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','METHOD':'n','id':1}", DUP_METHOD),
    A2A("{'jsonrpc':'2.0','me\\u0074hod':'m','id':1,'method':'n'}",
        DUP_METHOD),
    A2A("{'jsonr\xc3\xa0" "c':'2.0','jsonrpc':'2.0','method':'m','id':1}",
        OK),

    /* every object, at any depth, and objects inside arrays */
    A2A(RPC_HEAD ",'params':{'x':1,'X':2}}", FOLD_DUP),
    A2A(RPC_HEAD ",'params':{'x':1,'x':2}}", FOLD_DUP),
    A2A(RPC_HEAD ",'params':{'a':{'b':{'c':[{'d':[[{'e':1,'E':1}]]}]}}}}",
        FOLD_DUP),
    A2A(RPC_HEAD ",'params':[{'x':1},{'X':1}]}", OK),
    A2A(RPC_HEAD ",'params':[{'x':1,'y':{'X':1}}]}", OK),
    A2A(RPC_HEAD ",'params':['x','X',{'x':'X'}]}", OK),
    A2A(RPC_HEAD ",'Params':{},'params':{}}", FOLD_DUP),
    A2A(RPC_HEAD ",'params':{'message':{'parts':[{'kind':'text',"
        "'text':'hi','metadata':{'Kind':1}}],'role':'user'}}}", OK),
    A2A(RPC_HEAD ",'params':{'message':{'parts':[{'kind':'text',"
        "'text':'hi','Kind':'file'}],'role':'user'}}}", FOLD_DUP),

    /* \u0000 in a key, anywhere */
    A2A(RPC_HEAD ",'params':{'a\\u0000b':1}}", NUL_KEY),
    A2A(RPC_HEAD ",'params':[{'\\u0000':1}]}", NUL_KEY),
    A2A("{'id\\u0000x':2,'jsonrpc':'2.0','method':'m','id':1}", NUL_KEY),
    A2A("{'jsonrpc':'2.0','method\\u0000':'x','method':'m','id':1}",
        NUL_KEY),
    A2A(RPC_HEAD ",'params':{'a\\u0000' \r\n\t : 1}}", NUL_KEY),
    A2A("{'jsonrpc':'1.0','a\\u0000':1}", NUL_KEY),
    A2A(RPC_HEAD ",'params':{'a\\\\u0000':1}}", OK),
    A2A(RPC_HEAD ",'params':{'a\\\\\\u0000':1}}", NUL_KEY),

    /* \u0000 in payload values stays allowed */
    A2A(RPC_HEAD ",'params':{'t':'a\\u0000','u':1}}", OK),
    A2A(RPC_HEAD ",'params':['\\u0000',{'method':'\\u0000'}]}", OK),
    A2A("{'params':'\\u0000','jsonrpc':'2.0','method':'m','id':'x'}", OK),
    A2A("{'jsonrpc':'2.0','x':'\\u0000','method':'m','id':1}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'z':'\\u0000'}", OK),
    A2A("{'a':['\\u0000'],'jsonrpc':'2.0','method':'m','id':'i'}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':'i','params':{'id':'\\u0000'}}",
        OK),
    A2A("{'x\\':y':'\\u0000','jsonrpc':'2.0','method':'m','id':1}", OK),
    A2A("{'jsonrpc':'2.0','method':'m\\\\u0000','id':'\\\\u0000'}", OK),

    /* but not in the checked values */
    A2A("{'jsonrpc':'2.0\\u0000','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2.0\\u0000x','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2\\u0000.0','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2.0','method':'m\\u0000','id':1}", NUL_METHOD),
    A2A("{'jsonrpc':'2.0','method':'\\u0000','id':1}", NUL_METHOD),
    A2A("{'jsonrpc':'2.0','method':'a\\u0000b','id':1}", NUL_METHOD),
    A2A("{'jsonrpc':'2.0','method':'m','id':'a\\u0000'}", NUL_ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':'\\u0000'}", NUL_ID),
    A2A("{'id':'\\u0000','method':'m','jsonrpc':'2.0'}", NUL_ID),
    A2A("{'jsonrpc':'2.0','method':'\\':\\u0000','id':1}", NUL_METHOD),
    A2A("{'a':'{[\\'','b':{'c':'}]'},'jsonrpc':'2.0','method':'m\\u0000',"
        "'id':1}", NUL_METHOD),
    A2A("{'a':'\\\\','method' : '\\u0000' ,'jsonrpc':'2.0','id':1}",
        NUL_METHOD),
    A2A("{ 'jsonrpc' : '2.0' , 'method' : 'm' , 'id' : 'i\\u0000' }",
        NUL_ID),

    /* the order: object, NUL key, jsonrpc, method, id, fold duplicates */
    A2A("{'jsonrpc':'1.0','x':1,'X':2}", JSONRPC),
    A2A("{'jsonrpc':'2.0','method':'m','id':null,'x':1,'X':2}", ID),
    A2A("{'jsonrpc':'2.0','method':'\\u0000','id':1,'x':1,'X':2}",
        NUL_METHOD),
    A2A("{'jsonrpc':'2.0','method':'\\u0000','id':1,'a\\u0000':2}", NUL_KEY),
    A2A("[{'a\\u0000':1}]", "not a JSON object"),
};


static void
test_a2a_json(void)
{
    size_t             i;
    u_char            *buf;
    const a2a_case_t  *t;

    for (i = 0; i < sizeof(a2a_cases) / sizeof(a2a_cases[0]); i++) {
        t = &a2a_cases[i];
        UNIT_ROW(t->line);

        buf = json_body(t->body, t->len);
        CHECK_STR(ngx_http_wsgate_a2a_check(buf, t->len), t->want);
        free(buf);
    }

    UNIT_ROW_END();
}


typedef struct {
    int          line;
    const char  *body;
    size_t       len;
    const char  *field;         /* NULL: valid */
    const char  *reason;
} register_case_t;


#define REG(body, field, reason)                                              \
    { __LINE__, body, sizeof(body) - 1, field, reason }

#define GOOD_ID   "'id':'" UUID1 "'"
#define GOOD_URL  "'url':'https://agent.example.com/a2a'"
#define GOOD_CARD "'agent_card':{'name':'agent'}"


static const register_case_t  register_cases[] = {

    /* a checked key twice under folding: that field's duplicate */
    REG("{" GOOD_ID ",'\xc4\xb1" "d':1," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),
    REG("{'\xc4\xb0" "D':1," GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),
    REG("{" GOOD_ID ",'\\u0131\\u0044':1," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL ",'UrL':1," GOOD_CARD "}", "url",
        "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'Agent_Card':{}}",
        "agent_card", "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','N\\u0041me':1}}",
        "agent_card.name", "duplicate key"),

    /* a checked key alone in another case is not that key */
    REG("{'\xc4\xb1" "d':'" UUID1 "'," GOOD_URL "," GOOD_CARD "}", "id",
        "missing"),

    /* any other duplicate, at any depth: the body's */
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'x':1,'X':2}", "body",
        FOLD_DUP),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'x':1,'x':1}", "body",
        FOLD_DUP),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','skills':[],"
        "'Skills':[]}}", "body", FOLD_DUP),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','skills':"
        "[{'id':'s1','ID':'s2'}]}}", "body", FOLD_DUP),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'a':{'k':1,'\\u212a':2}}",
        "body", FOLD_DUP),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'a':[[{'k':1}],{'K':2}]}",
        NULL, NULL),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','id':1,"
        "'url':2},'extra':{'name':3}}", NULL, NULL),

    /* the body's duplicates come after the fields */
    REG("{'id':'x','x':1,'X':2}", "id", "not a UUID"),
    REG("{" GOOD_ID ",'url':'http://127.0.0.1/','x':1,'X':2}", "url",
        "address in a blocked range (loopback)"),
    REG("{" GOOD_ID "," GOOD_URL ",'x':1,'X':2}", "agent_card", "missing"),

    /* \u0000 anywhere, keys included, stays the body's NUL */
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'a\\u0000':1}", "body",
        "NUL character not allowed"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'x':{'\\u0000':1,'':2}}",
        "body", "NUL character not allowed"),
    REG("{'id\\u0000':'x'," GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "body",
        "NUL character not allowed"),
};


static void
test_register_json(void)
{
    int                     rc;
    size_t                  i;
    u_char                 *buf;
    const register_case_t  *t;

    ngx_http_wsgate_verdict_t  v;

    for (i = 0; i < sizeof(register_cases) / sizeof(register_cases[0]); i++) {
        t = &register_cases[i];
        UNIT_ROW(t->line);

        buf = json_body(t->body, t->len);
        v.field = "unset";
        v.reason = "unset";

        rc = ngx_http_wsgate_register_check(buf, t->len, 0, &v, NULL);

        CHECK_INT(rc, t->field == NULL ? 0 : -1);
        CHECK_STR(v.field, t->field);
        CHECK_STR(v.reason, t->reason);

        free(buf);
    }

    UNIT_ROW_END();
}


/*
 * Objects with many keys: sorted, not compared pairwise, so that a body
 * of many keys costs n log n; the duplicate at either end is found.
 */

static void
test_json_many(void)
{
    int          k;
    char        *body;
    size_t       i, n, size, keys;
    const char  *dup;

    ngx_http_wsgate_verdict_t  v;

    keys = 100000;
    size = keys * 16 + 256;
    body = malloc(size);

    for (k = 0; k < 4; k++) {
        unit_case("%zu keys, variant %d", keys, k);

        dup = (k == 1) ? "K0" : (k == 2) ? "K99999" : (k == 3) ? "k5" : NULL;

        n = snprintf(body, size, "{'jsonrpc':'2.0','method':'m','id':1,"
                                 "'params':{");

        for (i = 0; i < keys; i++) {
            n += snprintf(body + n, size - n, "%s'k%zu':%zu",
                          i ? "," : "", i, i);
        }

        if (dup != NULL) {
            n += snprintf(body + n, size - n, ",'%s':0", dup);
        }

        n += snprintf(body + n, size - n, "}}");

        for (i = 0; i < n; i++) {
            if (body[i] == '\'') {
                body[i] = '"';
            }
        }

        CHECK_STR(ngx_http_wsgate_a2a_check((u_char *) body, n),
                  dup ? FOLD_DUP : OK);
    }

    /* the same keys at the top level of a register payload */

    n = snprintf(body, size, "{'id':'" UUID1 "','url':'http://a.example/',"
                             "'agent_card':{'name':'a'}");

    for (i = 0; i < 1000; i++) {
        n += snprintf(body + n, size - n, ",'k%zu':1", i);
    }

    n += snprintf(body + n, size - n, ",'K999':1}");

    for (i = 0; i < n; i++) {
        if (body[i] == '\'') {
            body[i] = '"';
        }
    }

    unit_case("register, 1000 keys");
    CHECK_INT(ngx_http_wsgate_register_check((u_char *) body, n, 0, &v, NULL),
              -1);
    CHECK_STR(v.field, "body");
    CHECK_STR(v.reason, FOLD_DUP);

    /* without the last key: valid */

    memcpy(body + n - sizeof(",'K999':1}") + 1, "}", 1);
    n -= sizeof(",'K999':1}") - 2;

    unit_case("register, 1000 keys, no duplicate");
    CHECK_INT(ngx_http_wsgate_register_check((u_char *) body, n, 0, &v, NULL),
              0);

    UNIT_ROW_END();

    free(body);
}


void
test_json(void)
{
    test_fold_table();
    test_a2a_json();
    test_register_json();
    test_json_many();
}
