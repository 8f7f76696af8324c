package io.github.pulsaroutbox.benchmark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Median, minimum and maximum of repeated measurements, and percentiles of a sample. */
record Stats(double median, double min, double max) {

    static Stats of(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return new Stats(median, sorted.get(0), sorted.get(n - 1));
    }

    /** The p-th percentile (0-100) of sorted values, nearest rank. */
    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    String format(String pattern) {
        return String.format(Locale.ROOT, pattern + " (" + pattern + "–" + pattern + ")", median, min, max);
    }
}
