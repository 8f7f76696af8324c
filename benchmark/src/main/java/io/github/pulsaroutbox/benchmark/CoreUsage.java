package io.github.pulsaroutbox.benchmark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The share of the machine's cores that were busy (every process, not only this JVM) over one interval, read from
 * {@code /proc/stat}: idle and I/O wait count as idle, everything else as busy. {@link Double#NaN} where the file cannot
 * be read (not Linux). Keeps the share of the last interval that ended; not thread-safe.
 */
final class CoreUsage {

    private static final Path STAT = Path.of("/proc/stat");

    private double busyShare = Double.NaN;

    /** Starts an interval; closing the result ends it and sets {@link #busyShare()}. */
    AutoCloseable measure() {
        long[] begin = read();
        return () -> busyShare = share(begin, read());
    }

    /** The busy share of the last interval measured, 0 to 1; NaN if it could not be read or none was measured. */
    double busyShare() {
        return busyShare;
    }

    /** Busy and total jiffies of all cores since boot; null if unreadable. */
    private static long[] read() {
        try {
            List<String> lines = Files.readAllLines(STAT);
            return lines.isEmpty() ? null : parse(lines.get(0));
        } catch (Exception e) {
            return null; // not Linux
        }
    }

    /**
     * Busy and total jiffies from the aggregate line of {@code /proc/stat} ({@code cpu user nice system idle iowait
     * irq softirq steal [guest guest_nice]}; guest time is already counted in user and nice, so it is left out).
     */
    static long[] parse(String cpuLine) {
        String[] fields = cpuLine.trim().split("\\s+");
        if (!fields[0].equals("cpu") || fields.length < 5) {
            throw new IllegalArgumentException("Not the aggregate cpu line of /proc/stat: " + cpuLine);
        }
        long total = 0;
        for (int i = 1; i < Math.min(fields.length, 9); i++) {
            total += Long.parseLong(fields[i]);
        }
        long idle = Long.parseLong(fields[4]) + (fields.length > 5 ? Long.parseLong(fields[5]) : 0);
        return new long[] {total - idle, total};
    }

    /** The busy share between two readings; NaN if either is missing or no time passed. */
    static double share(long[] begin, long[] end) {
        if (begin == null || end == null || end[1] <= begin[1]) {
            return Double.NaN;
        }
        return (double) (end[0] - begin[0]) / (end[1] - begin[1]);
    }
}
