package io.github.pulsaroutbox.benchmark;

/** The rows and messages both sides of a comparison send: same keys, same JSON, same size. */
final class Payloads {

    static final String AGGREGATE_TYPE = "BenchAccount";
    static final String EVENT_TYPE = "io.github.pulsaroutbox.benchmark.BenchEvents$Deposited";

    private Payloads() {
    }

    static String aggregateId(String prefix, int row, int aggregates) {
        return prefix + (row % aggregates);
    }

    static long sequence(int row, int aggregates) {
        return row / aggregates;
    }

    /** A JSON object of about {@code bytes} bytes. */
    static String json(String aggregateId, int row, int bytes) {
        String head = "{\"accountId\":\"" + aggregateId + "\",\"amount\":" + row + ",\"note\":\"";
        StringBuilder json = new StringBuilder(bytes + 16).append(head);
        while (json.length() < bytes - 2) {
            json.append((char) ('a' + (json.length() % 26)));
        }
        return json.append("\"}").toString();
    }
}
