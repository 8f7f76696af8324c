package com.example.shop;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/dispatch-modes.md shows this project's configuration as it is. */
class DocsExampleTest {

    @Test
    void theDocShowsTheApplicationYml() throws Exception {
        assertThat(Files.readString(Path.of("..", "..", "docs", "dispatch-modes.md")))
                .contains("```yaml\n" + Files.readString(Path.of("src/main/resources/application.yml")) + "```");
    }
}
