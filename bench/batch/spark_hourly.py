"""bench/batch's baseline: the original stack's engine, a PySpark job in
local mode computing velo-batch's hourly aggregates from the same records.

  .deps/bench-venv/bin/python bench/batch/spark_hourly.py IN.jsonl OUT_DIR
      [--heartbeat-s 300] [--shuffle-partitions 8]

IN.jsonl: velib_data as velo-kdump prints it (one record a line, the
decoded StationSnapshot under "value"). Per station and UTC hour, as
docs/architecture.md ("velo-batch") defines them: a sample holds from its
fetched_at_ms until the station's next sample or one heartbeat, whichever
comes first; bikes/docks averages weighted by that time, min/max of the
states in force inside the hour, minutes empty/full, samples fetched in the
hour, bikes_in/bikes_out between consecutive samples at most a heartbeat
apart (counted in the later sample's hour), capacity. The rows go to
OUT_DIR as Parquet (the job's output, what a warehouse would load).

Prints one JSON line: rows, rows per hour (for the row-count check against
velo-batch), and the seconds from start to a ready session and to the
written output.
"""
import argparse
import json
import time

T0 = time.monotonic()

from pyspark.sql import SparkSession, Window  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import (LongType, StringType, StructField,  # noqa: E402
                               StructType)

HOUR_MS = 3600 * 1000

SCHEMA = StructType([
    StructField("partition", LongType()),
    StructField("value", StructType([
        StructField("system_id", StringType()),
        StructField("station_id", StringType()),
        StructField("capacity", LongType()),
        StructField("bikes_available", LongType()),
        StructField("docks_available", LongType()),
        StructField("fetched_at_ms", LongType()),
    ])),
])


def hourly(spark, path, hb):
    v = spark.read.schema(SCHEMA).json(path).select(
        F.col("value.system_id").alias("sys"),
        F.col("value.station_id").alias("st"),
        F.col("value.fetched_at_ms").alias("t"),
        F.coalesce(F.col("value.bikes_available"), F.lit(0)).alias("bikes"),
        F.coalesce(F.col("value.docks_available"), F.lit(0)).alias("docks"),
        F.coalesce(F.col("value.capacity"), F.lit(0)).alias("cap"))
    w = Window.partitionBy("sys", "st").orderBy("t")
    s = (v.withColumn("next_t", F.lead("t").over(w))
         .withColumn("prev_t", F.lag("t").over(w))
         .withColumn("prev_bikes", F.lag("bikes").over(w))
         .withColumn("until", F.least(F.coalesce("next_t", F.col("t") + hb),
                                      F.col("t") + hb)))
    # One piece per hour the sample's [t, until) overlaps.
    s = s.withColumn("h", F.explode(F.sequence(
        F.floor(F.col("t") / HOUR_MS) * HOUR_MS,
        F.floor((F.col("until") - 1) / HOUR_MS) * HOUR_MS,
        F.lit(HOUR_MS).cast("long"))))
    s = (s.withColumn("ms", F.least("until", F.col("h") + HOUR_MS)
                      - F.greatest("t", "h"))
         .withColumn("own", (F.col("t") >= F.col("h"))
                     & (F.col("t") < F.col("h") + HOUR_MS))
         .withColumn("gap", F.col("t") - F.col("prev_t"))
         .withColumn("d", F.when(F.col("own") & (F.col("gap") <= hb),
                                 F.col("bikes") - F.col("prev_bikes"))
                     .otherwise(0))
         .withColumn("broken", F.col("own") & (F.col("gap") > hb)))
    known = F.sum("ms")
    return s.groupBy("sys", "st", "h").agg(
        F.sum(F.col("own").cast("int")).alias("samples"),
        (F.sum(F.col("bikes") * F.col("ms")) / known).alias("bikes_avg"),
        F.min("bikes").alias("bikes_min"), F.max("bikes").alias("bikes_max"),
        (F.sum(F.col("docks") * F.col("ms")) / known).alias("docks_avg"),
        F.min("docks").alias("docks_min"), F.max("docks").alias("docks_max"),
        (F.sum(F.when(F.col("bikes") == 0, F.col("ms")).otherwise(0))
         / 60000.0).alias("minutes_empty"),
        (F.sum(F.when(F.col("docks") == 0, F.col("ms")).otherwise(0))
         / 60000.0).alias("minutes_full"),
        F.sum(F.greatest("d", F.lit(0))).alias("bikes_in"),
        F.sum(F.greatest(-F.col("d"), F.lit(0))).alias("bikes_out"),
        ((~F.max(F.coalesce("broken", F.lit(False))))
         & (known == HOUR_MS)).alias("flow_reliable"),
        F.max("cap").alias("capacity"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("out")
    ap.add_argument("--heartbeat-s", type=int, default=300)
    ap.add_argument("--shuffle-partitions", type=int, default=8)
    a = ap.parse_args()
    spark = (SparkSession.builder.master("local[*]")
             .appName("velo-bench-spark-hourly")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions",
                     str(a.shuffle_partitions))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    t_ready = time.monotonic() - T0
    rows = hourly(spark, a.input, a.heartbeat_s * 1000).cache()
    rows.write.mode("overwrite").parquet(a.out)
    t_done = time.monotonic() - T0
    per_hour = {str(r["h"]): r["count"]
                for r in rows.groupBy("h").count().collect()}
    print(json.dumps({"bench": "spark_hourly", "rows": sum(per_hour.values()),
                      "per_hour": per_hour, "ready_s": round(t_ready, 3),
                      "done_s": round(t_done, 3)}))
    spark.stop()


if __name__ == "__main__":
    main()
