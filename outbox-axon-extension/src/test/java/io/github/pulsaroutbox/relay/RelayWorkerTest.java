package io.github.pulsaroutbox.relay;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The relay's thread: one at a time, stopped with a bounded wait. */
class RelayWorkerTest {

    private final RelayWorker worker = new RelayWorker("relay-under-test", Duration.ofMillis(200));

    @Test
    void runsTheBodyOnADaemonThreadNamedAfterTheRelay() throws InterruptedException {
        AtomicReference<Thread> ran = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);

        worker.start(() -> {
            ran.set(Thread.currentThread());
            done.countDown();
        });

        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ran.get().getName()).isEqualTo("relay-under-test");
        assertThat(ran.get().isDaemon()).isTrue();
        assertThat(worker.is(ran.get())).isTrue();
        assertThat(worker.is(Thread.currentThread())).isFalse();
    }

    @Test
    void refusesANewThreadWhileThePreviousOneIsAliveAndForgetsItOnceStopped() {
        CountDownLatch release = new CountDownLatch(1);
        worker.start(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(worker.isAlive()).isTrue();

        assertThatThrownBy(worker::checkStopped).isInstanceOf(IllegalStateException.class)
                                                .hasMessageContaining("still stopping");

        release.countDown();
        worker.stop();
        assertThat(worker.isAlive()).isFalse();
        worker.checkStopped();
        assertThat(worker.is(null)).isTrue(); // forgotten
    }

    @Test
    void interruptsAThreadThatDoesNotFinishInTime() {
        CountDownLatch interrupted = new CountDownLatch(1);
        worker.start(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        });

        worker.stop();

        assertThat(interrupted.getCount()).isZero();
        assertThat(worker.isAlive()).isFalse();
    }

    @Test
    void stoppingWithoutAThreadDoesNothing() {
        worker.stop();

        assertThat(worker.isAlive()).isFalse();
    }
}
