package io.github.pulsaroutbox.testbroker;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A broker that cannot bind its port: the launcher reports it with the broker's log instead of hanging. */
class PulsarBrokerLauncherIntegrationTest {

    @Test
    void takenPortIsReportedWithTheBrokersLog() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> PulsarBrokerLauncher.create()
                                                         .config("brokerServicePort",
                                                                 Integer.toString(taken.getLocalPort()))
                                                         .startTimeout(Duration.ofSeconds(90))
                                                         .start())
                    .isInstanceOf(BrokerStartException.class)
                    .hasMessageContaining("exited")
                    .hasMessageContaining("Log tail");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(90));
        }
    }
}
