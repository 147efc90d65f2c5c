// trtlab_overlay: colour a class map with the PASCAL VOC palette and blend it over the image.
//
//   trtlab_overlay CLASSMAP.pgm IMAGE.ppm OUT.ppm [ALPHA=0.5]
//
// Pure C++ (no TensorRT): the post-processing half of the segmentation runtime, usable on any
// class map, e.g. one written by trtlab_segment or by Python (notebook 10 compares both).
#include "trtlab/imgutil.hpp"

#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 4 || argc > 5)
    {
        std::cerr << "usage: " << argv[0] << " CLASSMAP.pgm IMAGE.ppm OUT.ppm [ALPHA]\n";
        return 2;
    }
    try
    {
        float const alpha = argc == 5 ? std::stof(argv[4]) : 0.5F;
        auto const gray = trtlab::img::readPnm(argv[1]);
        auto const image = trtlab::img::readPnm(argv[2]);
        auto const ids = trtlab::img::classIdsFromImage(gray);
        auto const colored = trtlab::img::colorize(ids, gray.width, gray.height);
        trtlab::img::writePnm(argv[3], trtlab::img::blend(image, colored, alpha));
        std::cout << "backend=cpp (no TensorRT) overlay " << gray.width << "x" << gray.height
                  << " alpha=" << alpha << " -> " << argv[3] << "\n";
        return 0;
    }
    catch (std::exception const& e)
    {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
