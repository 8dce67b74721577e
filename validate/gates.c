/* Gates: defaults, the gates file, command-line overrides, applying them; the baseline. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vinternal.h"

int nd_gates_create(nd_gates **out)
{
	nd_gates *g = nd_calloc(1, sizeof *g);
	*out = NULL;
	if (!g)
		return nd_seterr(ND_ENOMEM, "out of memory");
	for (int k = 0; k < VC_COUNT; k++) {
		g->warn[k] = nd_vc_defs[k].warn;
		g->fail[k] = nd_vc_defs[k].fail;
	}
	*out = g;
	return 0;
}

void nd_gates_free(nd_gates *g)
{
	free(g);
}

int nd_vslurp(const char *path, const char *what, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	nd_buf b = {0};
	char tmp[65536];
	size_t n;
	*out = NULL;
	if (!f)
		return nd_seterr(ND_EIO, "%s: cannot open %s: %s", path, what, strerror(errno));
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		if (nd_buf_append(&b, tmp, n)) {
			fclose(f);
			nd_buf_free(&b);
			return nd_seterr(ND_ENOMEM, "out of memory reading %s", path);
		}
	if (ferror(f)) {
		fclose(f);
		nd_buf_free(&b);
		return nd_seterr(ND_EIO, "%s: read failed: %s", path, strerror(errno));
	}
	fclose(f);
	if (nd_buf_reserve(&b, 0)) {
		nd_buf_free(&b);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	b.data[b.len] = 0;
	*out = b.data;
	*len = b.len;
	return 0;
}


static int check_level(const char *path, const char *id, const char *lname, int k, const cJSON *x, double *out)
{
	if (cJSON_IsNull(x)) {
		*out = NAN;
		return 0;
	}
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return nd_seterr(ND_EINVAL, "%s: gates.%s.%s must be a number or null", path, id, lname);
	double d = x->valuedouble;
	if (d < 0)
		return nd_seterr(ND_EINVAL, "%s: gates.%s.%s is %g: a threshold cannot be negative", path, id, lname, d);
	if (nd_vc_is_fraction(k) && d > 1)
		return nd_seterr(ND_EINVAL, "%s: gates.%s.%s is %g: %s is a %s, from 0 to 1 (0.005 = 0.5%%)", path, id,
				 lname, d, id, nd_vc_defs[k].unit);
	*out = d;
	return 0;
}

int nd_gates_load(nd_gates *g, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *root = NULL;
	nd_gates ng = *g;
	int rc = nd_vslurp(path, "gates file", &text, &len);
	if (rc)
		return rc;
	const char *end = NULL;
	root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root) {
		rc = nd_seterr(ND_EINVAL, "%s: the gates file is not valid JSON (near byte %zu)", path,
			       end ? (size_t)(end - text) : (size_t)0);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = nd_seterr(ND_EINVAL, "%s: the gates file must be a JSON object", path);
		goto out;
	}
	for (const cJSON *m = root->child; m; m = m->next) {
		if (!strcmp(m->string, "schema")) {
			if (!cJSON_IsString(m) || strcmp(m->valuestring, "neardup.gates/1")) {
				rc = nd_seterr(ND_EINVAL, "%s: schema must be \"neardup.gates/1\"", path);
				goto out;
			}
		} else if (strcmp(m->string, "gates") && strcmp(m->string, "description")) {
			rc = nd_seterr(ND_EINVAL, "%s: unknown member \"%s\" (schema, description, gates)", path, m->string);
			goto out;
		}
	}
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(root, "gates");
	if (!cJSON_IsObject(gates)) {
		rc = nd_seterr(ND_EINVAL, "%s: member \"gates\" (an object of check id -> levels) is missing", path);
		goto out;
	}
	for (const cJSON *e = gates->child; e; e = e->next) {
		int k = nd_vc_find(e->string);
		if (k < 0) {
			rc = nd_seterr(ND_EINVAL, "%s: unknown check id \"%s\" (validate --list-checks lists them)", path,
				       e->string);
			goto out;
		}
		if (cJSON_IsString(e) && !strcmp(e->valuestring, "off")) {
			ng.warn[k] = ng.fail[k] = NAN;
			continue;
		}
		if (!cJSON_IsObject(e)) {
			rc = nd_seterr(ND_EINVAL, "%s: gates.%s must be {\"warn\": x, \"fail\": y} or \"off\"", path,
				       e->string);
			goto out;
		}
		for (const cJSON *l = e->child; l; l = l->next) {
			if (!strcmp(l->string, "warn"))
				rc = check_level(path, e->string, "warn", k, l, &ng.warn[k]);
			else if (!strcmp(l->string, "fail"))
				rc = check_level(path, e->string, "fail", k, l, &ng.fail[k]);
			else
				rc = nd_seterr(ND_EINVAL, "%s: gates.%s: unknown level \"%s\" (warn, fail)", path, e->string,
					       l->string);
			if (rc)
				goto out;
		}
		if (!isnan(ng.warn[k]) && !isnan(ng.fail[k]) && ng.warn[k] > ng.fail[k]) {
			rc = nd_seterr(ND_EINVAL, "%s: gates.%s: warn %g is above fail %g", path, e->string, ng.warn[k],
				       ng.fail[k]);
			goto out;
		}
	}
	*g = ng;
out:
	cJSON_Delete(root);
	free(text);
	return rc;
}

int nd_gates_set(nd_gates *g, nd_level level, const char *spec)
{
	const char *eq = spec ? strchr(spec, '=') : NULL;
	const char *lname = level == ND_LEVEL_FAIL ? "--fail" : "--warn";
	char id[64];
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof id)
		return nd_seterr(ND_EINVAL, "%s takes CHECK=VALUE (e.g. residual_near_rate=0.005), got '%s'", lname,
				 spec ? spec : "");
	memcpy(id, spec, (size_t)(eq - spec));
	id[eq - spec] = 0;
	int k = nd_vc_find(id);
	if (k < 0)
		return nd_seterr(ND_EINVAL, "%s: unknown check id \"%s\" (validate --list-checks lists them)", lname, id);
	double *slot = level == ND_LEVEL_FAIL ? &g->fail[k] : &g->warn[k];
	if (!strcmp(eq + 1, "off")) {
		*slot = NAN;
		return 0;
	}
	char *end;
	errno = 0;
	double d = strtod(eq + 1, &end);
	if (!eq[1] || *end || errno || !isfinite(d) || d < 0)
		return nd_seterr(ND_EINVAL, "%s %s: '%s' is not a threshold (a number >= 0, or off)", lname, id, eq + 1);
	if (nd_vc_is_fraction(k) && d > 1)
		return nd_seterr(ND_EINVAL, "%s %s: %g is above 1: %s is a %s (0.005 = 0.5%%)", lname, id, d, id,
				 nd_vc_defs[k].unit);
	*slot = d;
	return 0;
}

static nd_vstatus judge(const nd_vcheck *c)
{
	if (!c->applicable)
		return ND_VSTATUS_SKIP;
	if (!isnan(c->fail) && c->value > c->fail)
		return ND_VSTATUS_FAIL;
	if (!isnan(c->warn) && c->value > c->warn)
		return ND_VSTATUS_WARN;
	if (isnan(c->fail) && isnan(c->warn))
		return ND_VSTATUS_INFO;
	return ND_VSTATUS_PASS;
}

nd_vstatus nd_validation_gate(nd_validation *v, const nd_gates *g)
{
	nd_gates def;
	nd_vstatus worst = ND_VSTATUS_PASS;
	if (!g) {
		for (int k = 0; k < VC_COUNT; k++) {
			def.warn[k] = nd_vc_defs[k].warn;
			def.fail[k] = nd_vc_defs[k].fail;
		}
		g = &def;
	}
	for (int k = 0; k < VC_COUNT; k++) {
		nd_vcheck *c = &v->checks[k];
		c->warn = g->warn[k];
		c->fail = g->fail[k];
		if (k != VC_BASE_NEW_FAILURES)
			c->status = judge(c);
	}
	if (v->has_baseline) {
		/* a check that warns or fails now and did neither in the baseline */
		size_t n = 0, total = 0;
		v->ex[VC_BASE_NEW_FAILURES].n = 0;
		for (int k = 0; k < VC_COUNT; k++) {
			nd_vcheck *c = &v->checks[k];
			if (k == VC_BASE_NEW_FAILURES || !c->applicable)
				continue;
			total++;
			if (c->status != ND_VSTATUS_WARN && c->status != ND_VSTATUS_FAIL)
				continue;
			int before = 0;
			for (size_t i = 0; i < v->n_base_bad; i++)
				if (!strcmp(v->base_bad_ids[i], c->id))
					before = 1;
			if (!before) {
				n++;
				nd_vc_example(v, VC_BASE_NEW_FAILURES, SIZE_MAX, -1, "%s now %s", c->id,
					      nd_vstatus_name(c->status));
			}
		}
		nd_vc_measure(v, VC_BASE_NEW_FAILURES, (double)n, n, total);
		v->checks[VC_BASE_NEW_FAILURES].warn = g->warn[VC_BASE_NEW_FAILURES];
		v->checks[VC_BASE_NEW_FAILURES].fail = g->fail[VC_BASE_NEW_FAILURES];
	}
	v->checks[VC_BASE_NEW_FAILURES].status = judge(&v->checks[VC_BASE_NEW_FAILURES]);
	for (int k = 0; k < VC_COUNT; k++) {
		nd_vstatus s = v->checks[k].status;
		if (s == ND_VSTATUS_FAIL)
			worst = ND_VSTATUS_FAIL;
		else if (s == ND_VSTATUS_WARN && worst != ND_VSTATUS_FAIL)
			worst = ND_VSTATUS_WARN;
	}
	v->overall = worst;
	return worst;
}

/* ------------------------------------------------------------- baseline -- */

int nd_validation_compare(nd_validation *v, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *root = NULL;
	int rc = nd_vslurp(path, "baseline", &text, &len);
	if (rc)
		return rc;
	const char *end = NULL;
	root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root) {
		rc = nd_seterr(ND_EPARSE, "%s: the baseline is not valid JSON (near byte %zu): corrupt or truncated?", path,
			       end ? (size_t)(end - text) : (size_t)0);
		goto out;
	}
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	const cJSON *records = cJSON_GetObjectItemCaseSensitive(root, "records");
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "neardup.validation/1") || !cJSON_IsNumber(records) ||
	    records->valuedouble < 0 || records->valuedouble > 9007199254740992.0 /* 2^53: fits size_t exactly */ ||
	    !cJSON_IsArray(checks)) {
		rc = nd_seterr(ND_EFORMAT,
			       "%s: not a validation report (neardup.validation/1 with records and checks): "
			       "give --baseline a file written by validate --json",
			       path);
		goto out;
	}
	v->base_records = (size_t)records->valuedouble;
	v->base_dup = NAN;
	for (const cJSON *c = checks->child; c; c = c->next) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(c, "value");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
		if (!cJSON_IsString(id))
			continue;
		if (!strcmp(id->valuestring, "residual_near_rate") && cJSON_IsNumber(val))
			v->base_dup = val->valuedouble;
		if (cJSON_IsString(st) && (!strcmp(st->valuestring, "warn") || !strcmp(st->valuestring, "fail"))) {
			char **p = nd_reallocarray(v->base_bad_ids, v->n_base_bad + 1, sizeof *p);
			if (!p || !(p[v->n_base_bad] = nd_strndup(id->valuestring, strlen(id->valuestring)))) {
				if (p)
					v->base_bad_ids = p;
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto out;
			}
			v->base_bad_ids = p;
			v->n_base_bad++;
		}
	}
	v->baseline_path = nd_vstrdup(v, path);
	v->has_baseline = 1;
	if (v->base_records > 0) {
		double drop = ((double)v->base_records - (double)v->records) / (double)v->base_records;
		nd_vc_measure(v, VC_BASE_DROP, drop, v->records, v->base_records);
		nd_vc_example(v, VC_BASE_DROP, SIZE_MAX, -1, "%zu records now, %zu in the baseline", v->records,
			      v->base_records);
	}
	const nd_vcheck *now = &v->checks[VC_RESIDUAL_NEAR];
	if (now->applicable && !isnan(v->base_dup)) {
		/* a floor of 0.1% keeps 0 -> 0.0001 from reading as an infinite growth */
		double ratio = now->value / (v->base_dup > 0.001 ? v->base_dup : 0.001);
		nd_vc_measure(v, VC_BASE_DUP_GROWTH, ratio, now->count, now->total);
		nd_vc_example(v, VC_BASE_DUP_GROWTH, SIZE_MAX, -1, "residual_near_rate %.4f now, %.4f in the baseline",
			      now->value, v->base_dup);
	}
out:
	cJSON_Delete(root);
	free(text);
	return rc;
}
