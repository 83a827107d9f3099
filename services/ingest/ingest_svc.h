/* ingest_svc.h: velo-ingest on the common service host (velo/svc.h).
 *
 * The host's create() makes the Kafka sink (after making sure the topic
 * exists) and the poller on it; stop() drains the poller and flushes the
 * sink. main.c is this table and velo_svc_main(). */
#ifndef INGEST_INGEST_SVC_H
#define INGEST_INGEST_SVC_H

#include "velo/svc.h"

extern const struct velo_svc_ops ingest_svc_ops;

/* curl_global_init / curl_global_cleanup, for velo_svc_def. */
int  ingest_svc_global_init(void);
void ingest_svc_global_fini(void);

#endif
