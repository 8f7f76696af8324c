package io.github.pulsaroutbox.relay;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** Wake-ups and rescan requests for the relay thread. */
class RelaySignalsTest {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final RelaySignals signals = new RelaySignals(running::get);

    @Test
    void tellsWhetherTheRelayRuns() {
        assertThat(signals.running()).isTrue();
        running.set(false);
        assertThat(signals.running()).isFalse();
    }

    @Test
    void aRescanRequestIsTakenOnce() {
        assertThat(signals.takeRescanRequest()).isFalse();

        signals.requestRescan();
        signals.requestRescan();

        assertThat(signals.takeRescanRequest()).isTrue();
        assertThat(signals.takeRescanRequest()).isFalse();
    }

    @Nested
    class WakeUps {

        @Test
        void doNotPileUp() {
            signals.wakeUp();
            signals.wakeUp();

            assertThat(signals.takeWakeUp()).isTrue();
            assertThat(signals.takeWakeUp()).isFalse();
        }

        @Test
        void endAWaitForWorkAndAreAllTakenByIt() throws InterruptedException {
            signals.wakeUp();
            long started = System.nanoTime();

            signals.awaitWork(Duration.ofSeconds(10));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(signals.takeWakeUp()).isFalse();
        }

        @Test
        void aWaitWithoutOneEndsAfterItsTimeout() throws InterruptedException {
            long started = System.nanoTime();

            signals.awaitWork(Duration.ofMillis(50));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        }

        @Test
        void oneFromAnotherThreadEndsAWait() throws InterruptedException {
            Thread waker = new Thread(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                signals.wakeUp();
            });
            long started = System.nanoTime();
            waker.start();

            signals.awaitWork(Duration.ofSeconds(10));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            waker.join();
        }
    }
}
