/* gbfs_out_int.h: the JSON writer and helpers shared by gbfs_out.c (the
 * envelope, discovery and system feeds) and gbfs_out_station.c (the
 * station and vehicle type feeds). Not part of the public API. */
#ifndef VELO_GBFS_OUT_INT_H
#define VELO_GBFS_OUT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/gbfs_out.h"
#include "velo/jsonw.h"

/* Key-and-value calls over the project's one JSON writer (velo/jsonw.h):
 * its error is sticky, and velo_jsonw_finish reports it once. */
struct gbfs_jw {
    struct velo_jsonw j;
};

/* Opens a member (key != NULL) or an array element (key == NULL). */
void gbfs_jw_key(struct gbfs_jw *w, const char *key);
void gbfs_jw_open(struct gbfs_jw *w, const char *key, char brace);
void gbfs_jw_close(struct gbfs_jw *w, char brace);
void gbfs_jw_str(struct gbfs_jw *w, const char *key, const char *s);
void gbfs_jw_i64(struct gbfs_jw *w, const char *key, int64_t v);
void gbfs_jw_dbl(struct gbfs_jw *w, const char *key, double v);
void gbfs_jw_bool(struct gbfs_jw *w, const char *key, bool v);
/* A time: POSIX seconds (2.3) or RFC 3339 UTC (3.0). */
void gbfs_jw_time(struct gbfs_jw *w, const char *key, enum velo_gbfs_version v,
                  int64_t ms);
/* A 3.0 localized string: [{"text": s, "language": lang}]. */
void gbfs_jw_text(struct gbfs_jw *w, const char *key, const char *s,
                  const char *lang);

/* The stations' feeds; w has the envelope's "data" object open. */
void gbfs_station_information(struct gbfs_jw               *w,
                              const struct velo_gbfs_input *in,
                              enum velo_gbfs_version        v);
void gbfs_station_status(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                         enum velo_gbfs_version v);
void gbfs_vehicle_types(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                        enum velo_gbfs_version v);
/* True when some station carries both the mechanical and electric count. */
bool gbfs_has_ebike_split(const struct velo_gbfs_input *in);

#endif
