package io.github.pulsaroutbox.relay;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The relay's worker threads: daemons named after the relay, so thread dumps say whose they are. */
final class RelayThreads {

    private RelayThreads() {
    }

    /** A pool of {@code count} daemon threads named {@code relayName + suffix}. */
    static ExecutorService daemons(int count, String relayName, String suffix) {
        return Executors.newFixedThreadPool(count, task -> {
            Thread thread = new Thread(task, relayName + suffix);
            thread.setDaemon(true);
            return thread;
        });
    }
}
