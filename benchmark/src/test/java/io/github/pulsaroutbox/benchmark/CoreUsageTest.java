package io.github.pulsaroutbox.benchmark;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** {@link CoreUsage}: reading {@code /proc/stat} and the busy share between two readings. */
class CoreUsageTest {

    @Nested
    class Parse {

        @Test
        void countsIdleAndIoWaitAsIdleAndLeavesGuestTimeOut() {
            // user nice system idle iowait irq softirq steal guest guest_nice
            long[] reading = CoreUsage.parse("cpu  100 5 50 800 20 3 2 10 40 1");

            assertThat(reading).containsExactly(100 + 5 + 50 + 3 + 2 + 10, 990);
        }

        @Test
        void readsTheShortLineOfOldKernels() {
            assertThat(CoreUsage.parse("cpu 10 0 10 80")).containsExactly(20, 100);
        }

        @Test
        void refusesALineOfOneCore() {
            assertThatThrownBy(() -> CoreUsage.parse("cpu0 1 2 3 4 5 6 7 8"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cpu0");
        }
    }

    @Nested
    class Share {

        @Test
        void isTheBusyPartOfTheJiffiesThatPassed() {
            assertThat(CoreUsage.share(new long[] {100, 1000}, new long[] {250, 1200})).isCloseTo(0.75, within(1e-9));
        }

        @Test
        void isNotANumberWithoutTwoReadingsOrWithoutTimePassing() {
            assertThat(CoreUsage.share(null, new long[] {1, 2})).isNaN();
            assertThat(CoreUsage.share(new long[] {1, 2}, null)).isNaN();
            assertThat(CoreUsage.share(new long[] {1, 2}, new long[] {1, 2})).isNaN();
        }

        @Test
        void measuresAnIntervalOnThisMachine() throws Exception {
            CoreUsage usage = new CoreUsage();
            assertThat(usage.busyShare()).isNaN();

            try (AutoCloseable interval = usage.measure()) {
                long until = System.nanoTime() + 200_000_000L;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait(); // one core busy for 200 ms
                }
            }

            if (Files.isReadable(Path.of("/proc/stat"))) {
                assertThat(usage.busyShare()).isGreaterThan(0).isLessThanOrEqualTo(1);
            } else {
                assertThat(usage.busyShare()).isNaN();
            }
        }
    }
}
