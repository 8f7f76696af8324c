package io.github.pulsaroutbox.relay;

/** What a {@link RelayPipeline} is told by the relay that runs it (read on the relay thread, never blocking). */
interface RelayControl {

    /** Whether the relay is still running (else no more rows are fetched). */
    boolean running();

    /** Whether a rescan from the lowest position was asked for since the last call. */
    boolean takeRescanRequest();

    /** Whether new rows were signalled since the last call. */
    boolean takeWakeUp();
}
