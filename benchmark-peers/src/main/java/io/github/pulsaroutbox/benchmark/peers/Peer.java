package io.github.pulsaroutbox.benchmark.peers;

/** One other outbox library, set up as its documentation recommends for throughput, sending to a {@link PeerSink}. */
interface Peer extends AutoCloseable {

    /** Stores the rows through the library's own scheduling API, in transactions of 2,000, its dispatch held. */
    void seed(int rows, int aggregates, int payloadBytes) throws Exception;

    /** The library's table of records (statistics are refreshed before the drain, as for the relay's table). */
    String table();

    /** Starts (or releases) the library's dispatch of the stored rows. */
    void start();

    /** Rows the library has not yet recorded as done in its own table. */
    long incomplete();

    /** The ordering and delivery guarantee the library keeps as configured, stated beside its figure. */
    String guarantee();
}
